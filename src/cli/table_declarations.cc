#include "table_declarations.h"

#include <cctype>
#include <fstream>
#include <set>
#include <sstream>

#include "core/schema/ddl_parser.h"

namespace zerobus::cli {

std::string DeclareTable(const std::string &ddl, std::vector<schema::TableSchema> *tables) {
  schema::TableSchema table;
  std::string error;
  if (!schema::ParseTableDdl(ddl, &table, &error)) return error;
  tables->push_back(std::move(table));
  return "";
}

std::string DeclareTablesFromFile(const std::string &path,
                                  std::vector<schema::TableSchema> *tables) {
  std::ifstream file(path);
  if (!file) return "cannot read schema file '" + path + "'";
  std::stringstream text;
  text << file.rdbuf();
  std::string error;
  if (!schema::ParseSchemaText(text.str(), tables, &error)) return path + ": " + error;
  return "";
}

std::string CheckDistinctNames(const std::vector<schema::TableSchema> &tables) {
  std::set<std::string> names;
  for (const schema::TableSchema &table : tables) {
    std::string name = table.full_name;
    for (char &c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!names.insert(name).second) return "table " + table.full_name + " is declared twice";
  }
  return "";
}

}  // namespace zerobus::cli
