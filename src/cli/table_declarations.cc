#include "cli/table_declarations.h"

#include <cctype>
#include <fstream>
#include <set>
#include <sstream>

#include "table/ddl_parser.h"

namespace zerobus::cli {

std::string DeclareTable(const std::string &ddl, std::vector<table::TableSchema> *tables) {
  table::TableSchema table;
  std::string error;
  if (!table::ParseTableDdl(ddl, &table, &error)) return error;
  tables->push_back(std::move(table));
  return "";
}

std::string DeclareTablesFromFile(const std::string &path,
                                  std::vector<table::TableSchema> *tables) {
  std::ifstream file(path);
  if (!file) return "cannot read schema file '" + path + "'";
  std::stringstream text;
  text << file.rdbuf();
  std::string error;
  if (!table::ParseSchemaText(text.str(), tables, &error)) return path + ": " + error;
  return "";
}

std::string CheckDistinctNames(const std::vector<table::TableSchema> &tables) {
  std::set<std::string> names;
  for (const table::TableSchema &table : tables) {
    std::string name = table.full_name;
    for (char &c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!names.insert(name).second) return "table " + table.full_name + " is declared twice";
  }
  return "";
}

}  // namespace zerobus::cli
