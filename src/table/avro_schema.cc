#include "table/avro_schema.h"

#include <map>

#include <nlohmann/json.hpp>

#include "table/json_value.h"
#include "table/value_checks.h"

namespace zerobus::table {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

// The Avro name of the STRUCT at `path` (column names joined by '_'), prefixed so that a table
// whose name starts with a digit still gives a valid Avro name.
std::string RecordName(const std::string &path) {
  return (!path.empty() && path[0] >= '0' && path[0] <= '9' ? "_" : "") + path;
}

bool IsTextKind(DeltaKind kind) {
  return kind == DeltaKind::kString || kind == DeltaKind::kVarchar || kind == DeltaKind::kChar;
}

class Writer {
 public:
  // `name`: the Avro name of a STRUCT here; `path`: the column's, for messages.
  bool Type(const DeltaType &type, const std::string &name, const std::string &path,
            ordered_json *out) {
    switch (type.kind) {
      case DeltaKind::kString:
      case DeltaKind::kVarchar:
      case DeltaKind::kChar:
      case DeltaKind::kVariant:
        *out = "string";
        return true;
      case DeltaKind::kBoolean:
        *out = "boolean";
        return true;
      case DeltaKind::kTinyint:
      case DeltaKind::kSmallint:
      case DeltaKind::kInt:
        *out = "int";
        return true;
      case DeltaKind::kBigint:
        *out = "long";
        return true;
      case DeltaKind::kFloat:
        *out = "float";
        return true;
      case DeltaKind::kDouble:
        *out = "double";
        return true;
      case DeltaKind::kBinary:
        *out = "bytes";
        return true;
      case DeltaKind::kDecimal:
        *out = {{"type", "bytes"},
                {"logicalType", "decimal"},
                {"precision", type.precision},
                {"scale", type.scale}};
        return true;
      case DeltaKind::kDate:
        *out = {{"type", "int"}, {"logicalType", "date"}};
        return true;
      case DeltaKind::kTimestamp:
        *out = {{"type", "long"}, {"logicalType", "timestamp-micros"}};
        return true;
      case DeltaKind::kTimestampNtz:
        *out = {{"type", "long"}, {"logicalType", "local-timestamp-micros"}};
        return true;
      case DeltaKind::kArray: {
        ordered_json items;
        if (!Type(type.children[0], name, path, &items)) return false;
        *out = {{"type", "array"}, {"items", std::move(items)}};
        return true;
      }
      case DeltaKind::kMap: {
        if (!IsTextKind(type.children[0].kind)) {
          error_ = "column '" + path + "': " + TypeText(type) +
                   " has no Avro form: Avro's map keys are strings";
          return false;
        }
        ordered_json values;
        if (!Type(type.children[1], name, path, &values)) return false;
        *out = {{"type", "map"}, {"values", std::move(values)}};
        return true;
      }
      case DeltaKind::kStruct:
        return Record(type.fields, name, path, out);
    }
    error_ = "column '" + path + "' has a type with no Avro form: " + TypeText(type);
    return false;
  }

  bool Record(const std::vector<DeltaField> &fields, const std::string &name,
              const std::string &path, ordered_json *out) {
    ordered_json members = ordered_json::array();
    for (const DeltaField &field : fields) {
      ordered_json type;
      if (!Type(field.type, name + "_" + field.name,
                path.empty() ? field.name : path + "." + field.name, &type)) {
        return false;
      }
      ordered_json member = {{"name", field.name}};
      if (field.nullable) {
        member["type"] = ordered_json::array({"null", std::move(type)});
        member["default"] = nullptr;
      } else {
        member["type"] = std::move(type);
      }
      members.push_back(std::move(member));
    }
    *out = {{"type", "record"}, {"name", RecordName(name)}, {"fields", std::move(members)}};
    return true;
  }

  const std::string &error() const { return error_; }

 private:
  std::string error_;
};

// A short description of a writer type, for messages: "string", "long (timestamp-millis)",
// "record Event", "union of 3 types".
std::string Describe(const json &schema) {
  if (schema.is_string()) return Excerpt(schema.get<std::string>());
  if (schema.is_array()) return "union of " + std::to_string(schema.size()) + " types";
  if (!schema.is_object()) return DescribeJson(schema);
  const auto type = schema.find("type");
  if (type == schema.end()) return "an object without \"type\"";
  std::string text = Describe(*type);
  const auto name = schema.find("name");
  if (name != schema.end() && name->is_string()) text += " " + Excerpt(name->get<std::string>());
  const auto logical = schema.find("logicalType");
  if (logical != schema.end() && logical->is_string()) {
    text += " (" + Excerpt(logical->get<std::string>()) + ")";
  }
  return text;
}

std::string FullName(const json &definition, const std::string &enclosing) {
  const std::string name = definition.at("name").get<std::string>();
  if (name.find('.') != std::string::npos) return name;
  const auto space = definition.find("namespace");
  const std::string ns =
      space != definition.end() && space->is_string() ? space->get<std::string>() : enclosing;
  return ns.empty() ? name : ns + "." + name;
}

std::string NamespaceOf(const std::string &full_name) {
  const size_t dot = full_name.rfind('.');
  return dot == std::string::npos ? "" : full_name.substr(0, dot);
}

class Resolver {
 public:
  explicit Resolver(const TableSchema &table) : table_(table) {}

  bool Resolve(std::string_view text, AvroPlan *plan) {
    json schema;
    if (!ParseJson(text, &schema, &error_)) {
      error_ = "the Avro writer schema " + error_;
      return false;
    }
    if (!Register(schema, "")) return false;
    const json *root = nullptr;
    std::string ns;
    if (!Definition(schema, "", &root, &ns)) return false;
    if (!root->is_object() || root->value("type", json()) != "record") {
      error_ = "the Avro writer schema must be a record, not " + Describe(schema);
      return false;
    }
    plan->root.kind = AvroNode::Kind::kRecord;
    return Record(*root, ns, table_.columns, "", &plan->root);
  }

  const std::string &error() const { return error_; }

 private:
  bool Fail(const std::string &path, const std::string &what) {
    error_ = (path.empty() ? std::string("the Avro writer schema") : "column '" + path + "'") +
             ": " + what;
    return false;
  }

  // Notes every named type (record, enum, fixed) defined anywhere in `schema`.
  bool Register(const json &schema, const std::string &ns) {
    if (schema.is_array()) {
      for (const json &branch : schema) {
        if (!Register(branch, ns)) return false;
      }
      return true;
    }
    if (!schema.is_object()) return true;
    std::string inner = ns;
    const auto type = schema.find("type");
    if (type != schema.end() && type->is_string() &&
        (*type == "record" || *type == "enum" || *type == "fixed")) {
      const auto name = schema.find("name");
      if (name == schema.end() || !name->is_string() || name->get<std::string>().empty()) {
        return Fail("", "a " + type->get<std::string>() + " has no name");
      }
      const std::string full = FullName(schema, ns);
      if (!named_.emplace(full, &schema).second) {
        return Fail("", "the name " + Excerpt(full) + " is defined twice");
      }
      inner = NamespaceOf(full);
    }
    for (const auto &member : schema.items()) {
      if (member.key() == "default") continue;  // values, not types
      if (!Register(member.value(), inner)) return false;
    }
    return true;
  }

  // The definition `schema` stands for: itself, or the named type it refers to; and the
  // namespace its names are read in.
  bool Definition(const json &schema, const std::string &ns, const json **definition,
                  std::string *inner) {
    *definition = &schema;
    *inner = ns;
    if (!schema.is_string()) {
      if (schema.is_object() && schema.contains("name") && schema["name"].is_string()) {
        *inner = NamespaceOf(FullName(schema, ns));
      }
      return true;
    }
    const std::string name = schema.get<std::string>();
    static const char *const kPrimitives[] = {"null",  "boolean", "int",   "long",
                                              "float", "double",  "bytes", "string"};
    for (const char *primitive : kPrimitives) {
      if (name == primitive) return true;
    }
    auto found =
        named_.find(ns.empty() || name.find('.') != std::string::npos ? name : ns + "." + name);
    if (found == named_.end()) found = named_.find(name);
    if (found == named_.end()) return Fail("", "the type " + Excerpt(name) + " is not defined");
    *definition = found->second;
    *inner = NamespaceOf(found->first);
    return true;
  }

  // The value of writer type `schema` feeding Delta `type` at `path`.
  bool Node(const json &schema, const std::string &ns, const DeltaType &type,
            const std::string &path, AvroNode *node) {
    if (schema.is_array()) {
      if (schema.size() != 2 || (schema[0] != "null" && schema[1] != "null") ||
          (schema[0] == "null" && schema[1] == "null")) {
        return Fail(path, "the writer's type is a " + Describe(schema) +
                              "; only a union of null and one type can be read");
      }
      node->null_branch = schema[0] == "null" ? 0 : 1;
      const json &other = schema[1 - node->null_branch];
      if (other.is_array()) return Fail(path, "a union cannot hold a union");
      return Value(other, ns, type, path, node);
    }
    return Value(schema, ns, type, path, node);
  }

  bool Value(const json &schema, const std::string &ns, const DeltaType &type,
             const std::string &path, AvroNode *node) {
    const json *found = nullptr;
    std::string inner;
    if (!Definition(schema, ns, &found, &inner)) return false;
    const json &definition = *found;
    node->type = &type;
    const std::string mismatch =
        "the writer's type is " + Describe(definition) + ", the column is " + TypeText(type);
    std::string kind, logical;
    if (definition.is_string()) {
      kind = definition.get<std::string>();
    } else if (definition.is_object()) {
      const auto inner_type = definition.find("type");
      if (inner_type == definition.end()) return Fail(path, "a type without \"type\"");
      if (!inner_type->is_string()) return Node(*inner_type, inner, type, path, node);
      kind = inner_type->get<std::string>();
      logical = definition.value("logicalType", "");
    } else {
      return Fail(path, "a type is " + DescribeJson(definition));
    }
    using Kind = AvroNode::Kind;
    const DeltaKind delta = type.kind;
    if (kind == "string" || kind == "enum") {
      if (!IsTextKind(delta) && delta != DeltaKind::kVariant) return Fail(path, mismatch);
      node->kind = kind == "string" ? Kind::kString : Kind::kEnum;
      if (kind == "enum") {
        const auto symbols = definition.find("symbols");
        if (symbols == definition.end() || !symbols->is_array() || symbols->empty()) {
          return Fail(path, "an enum without symbols");
        }
        for (const json &symbol : *symbols) {
          if (!symbol.is_string()) return Fail(path, "an enum symbol is not a string");
          node->symbols.push_back(symbol.get<std::string>());
        }
      }
      return true;
    }
    if (kind == "boolean") {
      node->kind = Kind::kBoolean;
      return delta == DeltaKind::kBoolean || Fail(path, mismatch);
    }
    if (kind == "int" || kind == "long") {
      node->kind = kind == "int" ? Kind::kInt : Kind::kLong;
      if (delta == DeltaKind::kDate) {
        return (kind == "int" && logical == "date") || Fail(path, mismatch);
      }
      if (delta == DeltaKind::kTimestamp || delta == DeltaKind::kTimestampNtz) {
        const std::string prefix = delta == DeltaKind::kTimestamp ? "" : "local-";
        if (kind != "long") return Fail(path, mismatch);
        if (logical == prefix + "timestamp-micros") {
          node->unit = AvroNode::Unit::kMicros;
        } else if (logical == prefix + "timestamp-millis") {
          node->unit = AvroNode::Unit::kMillis;
        } else {
          return Fail(path, mismatch);
        }
        return true;
      }
      const bool fits =
          delta == DeltaKind::kBigint ||
          (kind == "int" && (delta == DeltaKind::kInt || delta == DeltaKind::kSmallint ||
                             delta == DeltaKind::kTinyint));
      return (fits && logical.empty()) || Fail(path, mismatch);
    }
    if (kind == "float" || kind == "double") {
      node->kind = kind == "float" ? Kind::kFloat : Kind::kDouble;
      return delta == DeltaKind::kDouble || (delta == DeltaKind::kFloat && kind == "float") ||
             Fail(path, mismatch);
    }
    if (kind == "bytes" || kind == "fixed") {
      node->kind = kind == "bytes" ? Kind::kBytes : Kind::kFixed;
      if (kind == "fixed") {
        const auto size = definition.find("size");
        // At least a byte, as every value read takes (AvroReader::ReadBlockCount()).
        if (size == definition.end() || !size->is_number_unsigned() || size->get<uint64_t>() == 0 ||
            size->get<uint64_t>() > (1u << 20)) {
          return Fail(path, "a fixed type needs a size of 1 byte to 1 MiB");
        }
        node->fixed_size = size->get<size_t>();
      }
      if (delta == DeltaKind::kBinary) return logical.empty() || Fail(path, mismatch);
      if (delta != DeltaKind::kDecimal || logical != "decimal") return Fail(path, mismatch);
      const json scale = definition.value("scale", json(0));
      if (!scale.is_number_integer() || scale.get<int64_t>() != type.scale) {
        return Fail(path, "the writer's decimal scale is " + scale.dump() + ", the column's is " +
                              std::to_string(type.scale));
      }
      node->decimal = true;
      node->scale = type.scale;
      return true;
    }
    if (kind == "array") {
      node->kind = Kind::kArray;
      if (delta != DeltaKind::kArray || !definition.contains("items")) return Fail(path, mismatch);
      node->children.resize(1);
      return Node(definition.at("items"), inner, type.children[0], path + "[]", &node->children[0]);
    }
    if (kind == "map") {
      node->kind = Kind::kMap;
      if (delta != DeltaKind::kMap || !IsTextKind(type.children[0].kind) ||
          !definition.contains("values")) {
        return Fail(path, mismatch);
      }
      node->children.resize(1);
      return Node(definition.at("values"), inner, type.children[1], path + "[]",
                  &node->children[0]);
    }
    if (kind == "record") {
      node->kind = Kind::kRecord;
      if (delta != DeltaKind::kStruct) return Fail(path, mismatch);
      return Record(definition, inner, type.fields, path, node);
    }
    return Fail(path, mismatch);
  }

  // A record's fields against `fields` (the table's columns when `path` is empty).
  bool Record(const json &record, const std::string &ns, const std::vector<DeltaField> &fields,
              const std::string &path, AvroNode *node) {
    const auto members = record.find("fields");
    // Not empty: every value read takes at least a byte (AvroReader::ReadBlockCount()).
    if (members == record.end() || !members->is_array() || members->empty()) {
      return Fail(path, "a record needs an array of one field or more");
    }
    std::vector<bool> covered(fields.size());
    for (const json &member : *members) {
      if (!member.is_object() || !member.contains("name") || !member["name"].is_string() ||
          !member.contains("type")) {
        return Fail(path, "a record field needs a name and a type");
      }
      const std::string name = member["name"].get<std::string>();
      const std::string member_path = path.empty() ? name : path + "." + name;
      const DeltaField *field = FindField(fields, name);
      if (field == nullptr) {
        return Fail(
            path, "the writer's field '" + Excerpt(name) + "' is not " +
                      (path.empty() ? "a column of " + table_.full_name : "a field of the STRUCT"));
      }
      const size_t index = static_cast<size_t>(field - fields.data());
      if (covered[index]) {
        return Fail(member_path, "the writer has two fields for it");
      }
      covered[index] = true;
      AvroNode::Field resolved{name, index, std::vector<AvroNode>(1)};
      if (!Node(member["type"], ns, field->type,
                path.empty() ? field->name : path + "." + field->name, &resolved.node[0])) {
        return false;
      }
      node->fields.push_back(std::move(resolved));
    }
    for (size_t i = 0; i < fields.size(); ++i) {
      if (!covered[i] && !fields[i].nullable) {
        return Fail(path.empty() ? fields[i].name : path + "." + fields[i].name,
                    "is NOT NULL but the writer schema has no field for it");
      }
    }
    return true;
  }

  const TableSchema &table_;
  std::map<std::string, const json *> named_;
  std::string error_;
};

}  // namespace

bool AvroSchemaFor(const TableSchema &table, std::string *schema, std::string *error) {
  Writer writer;
  ordered_json record;
  const std::string name = table.full_name.substr(table.full_name.rfind('.') + 1);
  if (!writer.Record(table.columns, name, "", &record)) {
    *error = writer.error();
    return false;
  }
  *schema = record.dump();
  return true;
}

bool ResolveAvroSchema(const TableSchema &table, std::string_view writer, AvroPlan *plan,
                       std::string *error) {
  Resolver resolver(table);
  *plan = AvroPlan{};
  if (!resolver.Resolve(writer, plan)) {
    *error = resolver.error();
    return false;
  }
  return true;
}

}  // namespace zerobus::table
