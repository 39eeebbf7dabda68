#include "server/table_catalog.h"

#include <utility>

#include <absl/strings/ascii.h>

namespace zerobus::server {

TableCatalog::TableCatalog(std::vector<table::TableSchema> declared, bool accept_undeclared)
    : declared_(std::move(declared)), accept_undeclared_(accept_undeclared) {
  for (const table::TableSchema &table : declared_)
    by_name_.emplace(absl::AsciiStrToLower(table.full_name), &table);
}

grpc::Status TableCatalog::Find(const std::string &name, const table::TableSchema **schema) const {
  auto it = by_name_.find(absl::AsciiStrToLower(name));
  if (it != by_name_.end()) {
    *schema = it->second;
    return grpc::Status::OK;
  }
  if (accept_undeclared_) {
    *schema = nullptr;
    return grpc::Status::OK;
  }
  return grpc::Status(grpc::StatusCode::NOT_FOUND, "table " + name + " does not exist");
}

}  // namespace zerobus::server
