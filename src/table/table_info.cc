#include "table/table_info.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "table/ddl_parser.h"
#include "table/json_value.h"
#include "table/value_checks.h"

namespace zerobus::table {
namespace {

using nlohmann::json;

// Where Spark keeps the declared VARCHAR(n) or CHAR(n) of a column it reports as "string".
constexpr char kCharVarcharKey[] = "__CHAR_VARCHAR_TYPE_STRING";

// Unity Catalog names are at most 255 characters a part; a message quotes no more than that.
constexpr size_t kNameBytes = 3 * 255 + 2;

const json *Member(const json &object, const char *name) {
  auto it = object.find(name);
  return it == object.end() || it->is_null() ? nullptr : &*it;
}

class TableInfoParser {
 public:
  bool Parse(std::string_view text, TableSchema *table, std::string *error) {
    if (!Table(text, table)) {
      *error = error_;
      return false;
    }
    return true;
  }

 private:
  bool Fail(const std::string &what) {
    error_ = what;
    return false;
  }

  bool Table(std::string_view text, TableSchema *table) {
    json info;
    std::string why;
    if (!ParseJson(text, &info, &why)) return Fail("the table description " + why);
    if (!info.is_object()) return Fail("the table description is not a JSON object");
    if (const json *format = Member(info, "data_source_format");
        format != nullptr && *format != "DELTA") {
      return Fail("the table is not a Delta table (data_source_format: " + DescribeJson(*format) +
                  ")");
    }
    if (!FullName(info, &table->full_name)) return false;
    const std::string subject = "table " + Excerpt(table->full_name, kNameBytes);
    const json *columns = Member(info, "columns");
    if (columns == nullptr || !columns->is_array() || columns->empty()) {
      return Fail(subject + " has no columns");
    }
    if (columns->size() > kMaxColumns) {
      return Fail(subject + " has " + std::to_string(columns->size()) + " columns; at most " +
                  std::to_string(kMaxColumns) + " are allowed");
    }
    std::vector<std::pair<int64_t, DeltaField>> ordered;
    for (const json &column : *columns) {
      DeltaField field;
      int64_t position = static_cast<int64_t>(ordered.size());
      if (!Column(column, &field, &position)) return false;
      ordered.emplace_back(position, std::move(field));
    }
    std::stable_sort(ordered.begin(), ordered.end(),
                     [](const auto &a, const auto &b) { return a.first < b.first; });
    for (auto &[position, field] : ordered) table->columns.push_back(std::move(field));
    return Distinct(table->columns, subject, "column");
  }

  bool FullName(const json &info, std::string *full_name) {
    if (const json *name = Member(info, "full_name"); name != nullptr && name->is_string()) {
      *full_name = name->get<std::string>();
    } else {
      const json *catalog = Member(info, "catalog_name");
      const json *schema = Member(info, "schema_name");
      const json *table = Member(info, "name");
      if (catalog == nullptr || schema == nullptr || table == nullptr || !catalog->is_string() ||
          !schema->is_string() || !table->is_string()) {
        return Fail("the table description has no full_name");
      }
      *full_name = catalog->get<std::string>() + "." + schema->get<std::string>() + "." +
                   table->get<std::string>();
    }
    const size_t first = full_name->find('.');
    const size_t last = full_name->rfind('.');
    const std::string_view name(*full_name);
    if (first == std::string::npos || first == last ||
        !IsValidTableNamePart(name.substr(0, first)) ||
        !IsValidTableNamePart(name.substr(first + 1, last - first - 1)) ||
        !IsValidTableNamePart(name.substr(last + 1))) {
      return Fail("table name '" + Excerpt(*full_name) +
                  "' is not catalog.schema.table of ASCII letters, digits and underscores");
    }
    return true;
  }

  bool Column(const json &column, DeltaField *field, int64_t *position) {
    if (!column.is_object()) return Fail("a column is not a JSON object");
    if (!Name(column, "a column", &field->name)) return false;
    const std::string path = "column '" + field->name + "'";
    if (const json *at = Member(column, "position"); at != nullptr) {
      if (!at->is_number_integer()) return Fail(path + ": position is not an integer");
      *position = at->get<int64_t>();
    }
    if (!Nullable(column, path, &field->nullable)) return false;
    if (const json *comment = Member(column, "comment"); comment && comment->is_string()) {
      field->comment = comment->get<std::string>();
    }
    if (const json *type_json = Member(column, "type_json"); type_json != nullptr) {
      if (!type_json->is_string()) return Fail(path + ": type_json is not a string");
      json parsed;
      std::string why;
      if (!ParseJson(type_json->get_ref<const std::string &>(), &parsed, &why)) {
        return Fail(path + ": type_json " + why);
      }
      // Either a StructField wrapping the type, or the bare type.
      const bool wrapped = parsed.is_object() && parsed.contains("name") && parsed.contains("type");
      return Type(wrapped ? parsed["type"] : parsed, wrapped ? &parsed : nullptr, path, 1,
                  &field->type);
    }
    const json *type_text = Member(column, "type_text");
    if (type_text == nullptr || !type_text->is_string()) {
      return Fail(path + ": neither type_json nor type_text says its type");
    }
    return Text(type_text->get<std::string>(), path, &field->type);
  }

  // The name of a column or STRUCT field (`what`, for the error).
  bool Name(const json &node, const std::string &what, std::string *name) {
    const json *value = node.is_object() ? Member(node, "name") : nullptr;
    if (value == nullptr || !value->is_string()) return Fail(what + " has no name");
    *name = value->get<std::string>();
    if (!IsValidColumnName(*name)) {
      return Fail(what + ": name '" + Excerpt(*name) +
                  "' may only hold ASCII letters, digits and underscores, and may not start "
                  "with a digit");
    }
    return true;
  }

  bool Nullable(const json &node, const std::string &path, bool *nullable) {
    const json *value = Member(node, "nullable");
    if (value == nullptr) return true;  // absent means nullable
    if (!value->is_boolean()) return Fail(path + ": nullable is not true or false");
    *nullable = value->get<bool>();
    return true;
  }

  bool Text(const std::string &text, const std::string &path, DeltaType *type) {
    std::string why;
    if (!ParseTypeText(text, type, &why)) {
      return Fail(path + ": type '" + Excerpt(text) + "': " + why);
    }
    return true;
  }

  // `node` is a type: a primitive name, or an object for STRUCT, ARRAY and MAP. `field` is the
  // StructField holding it, whose metadata may declare a VARCHAR(n) or CHAR(n).
  bool Type(const json &node, const json *field, const std::string &path, int depth,
            DeltaType *type) {
    if (depth > kMaxNestingDepth) {
      return Fail(path + ": types nest deeper than " + std::to_string(kMaxNestingDepth) +
                  " levels");
    }
    if (node.is_string()) {
      const json *metadata = field ? Member(*field, "metadata") : nullptr;
      const json *declared =
          metadata && metadata->is_object() ? Member(*metadata, kCharVarcharKey) : nullptr;
      if (node == "string" && declared != nullptr && declared->is_string()) {
        return Text(declared->get<std::string>(), path, type);
      }
      return Text(node.get<std::string>(), path, type);
    }
    const json *kind = node.is_object() ? Member(node, "type") : nullptr;
    if (kind == nullptr || !kind->is_string())
      return Fail(path + ": malformed type, " + DescribeJson(node));
    if (*kind == "struct") {
      type->kind = DeltaKind::kStruct;
      const json *fields = Member(node, "fields");
      if (fields == nullptr || !fields->is_array() || fields->empty()) {
        return Fail(path + ": a STRUCT needs at least one field");
      }
      for (const json &member : *fields) {
        DeltaField inner;
        if (!Name(member, path + ": a STRUCT field", &inner.name)) return false;
        // column 'a' -> column 'a.b'
        const std::string inner_path = path.substr(0, path.size() - 1) + "." + inner.name + "'";
        const json *inner_type = Member(member, "type");
        if (inner_type == nullptr) return Fail(inner_path + ": has no type");
        if (!Nullable(member, inner_path, &inner.nullable) ||
            !Type(*inner_type, &member, inner_path, depth + 1, &inner.type)) {
          return false;
        }
        type->fields.push_back(std::move(inner));
      }
      return Distinct(type->fields, path, "field");
    }
    if (*kind == "array") {
      type->kind = DeltaKind::kArray;
      type->children.resize(1);
      const json *element = Member(node, "elementType");
      if (element == nullptr) return Fail(path + ": an array type has no elementType");
      if (!Type(*element, nullptr, path, depth + 1, &type->children[0])) return false;
    } else if (*kind == "map") {
      type->kind = DeltaKind::kMap;
      type->children.resize(2);
      const json *key = Member(node, "keyType");
      const json *value = Member(node, "valueType");
      if (key == nullptr || value == nullptr) {
        return Fail(path + ": a map type needs keyType and valueType");
      }
      if (!Type(*key, nullptr, path, depth + 1, &type->children[0]) ||
          !Type(*value, nullptr, path, depth + 1, &type->children[1])) {
        return false;
      }
    } else {
      return Fail(path + ": unknown or unsupported type, " + DescribeJson(*kind));
    }
    const char *unsupported = UnsupportedNesting(*type);
    return unsupported == nullptr || Fail(path + ": " + unsupported);
  }

  bool Distinct(const std::vector<DeltaField> &fields, const std::string &where, const char *what) {
    for (size_t i = 0; i < fields.size(); ++i) {
      for (size_t j = 0; j < i; ++j) {
        if (SameColumnName(fields[i].name, fields[j].name)) {
          return Fail(where + ": " + what + " '" + fields[i].name + "' is defined twice");
        }
      }
    }
    return true;
  }

  std::string error_;
};

}  // namespace

bool ParseTableInfo(std::string_view json, TableSchema *table, std::string *error) {
  *table = TableSchema{};
  return TableInfoParser().Parse(json, table, error);
}

}  // namespace zerobus::table
