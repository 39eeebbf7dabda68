#include "server/table_catalog.h"

#include <cctype>
#include <utility>

namespace zerobus::server {
namespace {

std::string Lower(std::string text) {
  for (char &c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

}  // namespace

TableCatalog::TableCatalog(std::vector<TableSchema> declared, bool accept_undeclared)
    : declared_(std::move(declared)), accept_undeclared_(accept_undeclared) {
  for (const TableSchema &table : declared_) by_name_.emplace(Lower(table.full_name), &table);
}

grpc::Status TableCatalog::Find(const std::string &name, const TableSchema **schema) const {
  auto it = by_name_.find(Lower(name));
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
