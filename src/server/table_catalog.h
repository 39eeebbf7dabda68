// The tables a server knows: those declared at start-up with their schemas and, when the server
// is told to, any other well-named table, accepted without a schema.
#ifndef ZEROBUS_SERVER_TABLE_CATALOG_H
#define ZEROBUS_SERVER_TABLE_CATALOG_H

#include <map>
#include <string>
#include <vector>

#include <grpcpp/support/status.h>

#include "table/delta_type.h"

namespace zerobus::server {

// Immutable after construction, so every method is thread-safe.
class TableCatalog {
 public:
  // `accept_undeclared`: whether a table that was not declared is accepted (schemaless: its
  // records are kept as they arrive) rather than refused with NOT_FOUND as the service does.
  TableCatalog(std::vector<table::TableSchema> declared, bool accept_undeclared);

  // OK and the table's schema in `*schema` (null for an accepted undeclared table), or
  // NOT_FOUND. Table names compare case-insensitively, as in Unity Catalog.
  grpc::Status Find(const std::string &name, const table::TableSchema **schema) const;

  const std::vector<table::TableSchema> &declared() const { return declared_; }
  bool accept_undeclared() const { return accept_undeclared_; }

 private:
  std::vector<table::TableSchema> declared_;
  std::map<std::string, const table::TableSchema *> by_name_;  // lower-case name
  bool accept_undeclared_;
};

}  // namespace zerobus::server

#endif  // ZEROBUS_SERVER_TABLE_CATALOG_H
