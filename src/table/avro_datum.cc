#include "table/avro_datum.h"

#include <map>

#include <nlohmann/json.hpp>

namespace zerobus::table {

// Turns the schema's JSON into nodes_. Names are kept by their full name (namespace.name), so
// that a reference resolves the way the specification says: as a full name when it has a dot,
// else in the namespace that encloses it.
class AvroDatumWalker::Parser {
 public:
  explicit Parser(std::vector<Node> *nodes) : nodes_(nodes) {}

  // The node of `schema` in namespace `space`, or false with `*error`.
  bool Type(const nlohmann::json &schema, const std::string &space, size_t *node,
            std::string *error, int depth = 0) {
    if (depth > kMaxDepth)
      return Fail("the schema nests deeper than " + std::to_string(kMaxDepth) + " levels", error);
    if (schema.is_string()) return Named(schema.get<std::string>(), space, node, error);
    if (schema.is_array()) {
      if (schema.empty()) return Fail("a union has no branches", error);
      const size_t union_node = Add(Kind::kUnion);
      for (const nlohmann::json &branch : schema) {
        size_t child = 0;
        if (!Type(branch, space, &child, error, depth + 1)) return false;
        (*nodes_)[union_node].children.push_back(child);
      }
      *node = union_node;
      return true;
    }
    if (!schema.is_object() || !schema.contains("type")) {
      return Fail("a type is neither a name, a union nor an object with \"type\"", error);
    }
    const nlohmann::json &type = schema["type"];
    if (!type.is_string()) return Type(type, space, node, error, depth + 1);
    const std::string kind = type.get<std::string>();
    if (kind == "record" || kind == "error") return Record(schema, space, node, error, depth);
    if (kind == "enum") return Enum(schema, space, node, error);
    if (kind == "fixed") return Fixed(schema, space, node, error);
    if (kind == "array" || kind == "map") {
      const char *member = kind == "array" ? "items" : "values";
      if (!schema.contains(member)) return Fail("an " + kind + " has no \"" + member + "\"", error);
      size_t item = 0;
      if (!Type(schema[member], space, &item, error, depth + 1)) return false;
      *node = Add(kind == "array" ? Kind::kArray : Kind::kMap);
      (*nodes_)[*node].children.push_back(item);
      return true;
    }
    // A primitive written as an object, perhaps with a logical type that does not change how
    // it is encoded.
    return Named(kind, space, node, error);
  }

 private:
  static bool Fail(const std::string &why, std::string *error) {
    *error = why;
    return false;
  }

  size_t Add(Kind kind) {
    nodes_->push_back(Node{kind, 0, {}, kind == Kind::kNull});
    return nodes_->size() - 1;
  }

  bool Named(const std::string &name, const std::string &space, size_t *node, std::string *error) {
    static const std::map<std::string, Kind> kPrimitives = {
        {"null", Kind::kNull},   {"boolean", Kind::kBoolean}, {"int", Kind::kInt},
        {"long", Kind::kLong},   {"float", Kind::kFloat},     {"double", Kind::kDouble},
        {"bytes", Kind::kBytes}, {"string", Kind::kString}};
    if (auto primitive = kPrimitives.find(name); primitive != kPrimitives.end()) {
      *node = Add(primitive->second);
      return true;
    }
    auto found = names_.find(FullName(name, space));
    if (found == names_.end()) found = names_.find(name);
    if (found == names_.end()) return Fail("the type \"" + name + "\" is not defined", error);
    *node = found->second;
    return true;
  }

  static std::string FullName(const std::string &name, const std::string &space) {
    return name.find('.') != std::string::npos || space.empty() ? name : space + "." + name;
  }

  // Declares the named type of `schema` as `node`; its namespace goes in `*inner`.
  bool Declare(const nlohmann::json &schema, const std::string &space, size_t node,
               std::string *inner, std::string *error) {
    if (!schema.contains("name") || !schema["name"].is_string()) {
      return Fail("a named type has no \"name\"", error);
    }
    const std::string name = schema["name"].get<std::string>();
    std::string enclosing = space;
    if (schema.contains("namespace") && schema["namespace"].is_string()) {
      enclosing = schema["namespace"].get<std::string>();
    }
    const std::string full = FullName(name, enclosing);
    if (!names_.emplace(full, node).second) {
      return Fail("the name \"" + full + "\" is defined twice", error);
    }
    const size_t dot = full.rfind('.');
    *inner = dot == std::string::npos ? "" : full.substr(0, dot);
    return true;
  }

  bool Record(const nlohmann::json &schema, const std::string &space, size_t *node,
              std::string *error, int depth) {
    // Declared before its fields, which may refer to it.
    const size_t record = Add(Kind::kRecord);
    std::string inner;
    if (!Declare(schema, space, record, &inner, error)) return false;
    if (!schema.contains("fields") || !schema["fields"].is_array()) {
      return Fail("a record has no \"fields\" array", error);
    }
    bool takes_no_bytes = true;
    for (const nlohmann::json &field : schema["fields"]) {
      if (!field.is_object() || !field.contains("type")) {
        return Fail("a field of a record has no \"type\"", error);
      }
      size_t child = 0;
      if (!Type(field["type"], inner, &child, error, depth + 1)) return false;
      // A record met again inside itself has its flag still unset: it counts as taking bytes.
      takes_no_bytes = takes_no_bytes && (*nodes_)[child].takes_no_bytes;
      (*nodes_)[record].children.push_back(child);
    }
    (*nodes_)[record].takes_no_bytes = takes_no_bytes;
    *node = record;
    return true;
  }

  // Adds a node of `kind` named by `schema`.
  bool AddNamed(Kind kind, const nlohmann::json &schema, const std::string &space, size_t *node,
                std::string *error) {
    *node = Add(kind);
    std::string inner;
    return Declare(schema, space, *node, &inner, error);
  }

  bool Enum(const nlohmann::json &schema, const std::string &space, size_t *node,
            std::string *error) {
    if (!AddNamed(Kind::kEnum, schema, space, node, error)) return false;
    if (!schema.contains("symbols") || !schema["symbols"].is_array()) {
      return Fail("an enum has no \"symbols\" array", error);
    }
    (*nodes_)[*node].size = schema["symbols"].size();
    return true;
  }

  bool Fixed(const nlohmann::json &schema, const std::string &space, size_t *node,
             std::string *error) {
    if (!AddNamed(Kind::kFixed, schema, space, node, error)) return false;
    if (!schema.contains("size") || !schema["size"].is_number_unsigned()) {
      return Fail("a fixed has no \"size\"", error);
    }
    const size_t size = schema["size"].get<size_t>();
    (*nodes_)[*node].size = size;
    (*nodes_)[*node].takes_no_bytes = size == 0;
    return true;
  }

  std::vector<Node> *nodes_;
  std::map<std::string, size_t> names_;
};

bool AvroDatumWalker::Parse(std::string_view schema, std::string *error) {
  nodes_.clear();
  const nlohmann::json json = nlohmann::json::parse(schema, nullptr, false);
  if (json.is_discarded()) {
    *error = "the schema is not JSON";
    return false;
  }
  Parser parser(&nodes_);
  if (parser.Type(json, "", &root_, error)) return true;
  nodes_.clear();
  return false;
}

bool AvroDatumWalker::Skip(AvroReader *reader) const {
  return !nodes_.empty() && SkipNode(root_, reader, 0);
}

bool AvroDatumWalker::SkipNode(size_t index, AvroReader *reader, int depth) const {
  if (depth > kMaxDepth) return false;
  const Node &node = nodes_[index];
  int64_t number = 0;
  std::string_view bytes;
  switch (node.kind) {
    case Kind::kNull:
      return true;
    case Kind::kBoolean: {
      bool value = false;
      return reader->ReadBoolean(&value);
    }
    case Kind::kInt:
    case Kind::kLong:
      return reader->ReadLong(&number);
    case Kind::kFloat:
      return reader->ReadFixed(4, &bytes);
    case Kind::kDouble:
      return reader->ReadFixed(8, &bytes);
    case Kind::kBytes:
    case Kind::kString:
      return reader->ReadBytes(&bytes);
    case Kind::kFixed:
      return reader->ReadFixed(node.size, &bytes);
    case Kind::kEnum:
      return reader->ReadLong(&number) && number >= 0 && static_cast<uint64_t>(number) < node.size;
    case Kind::kUnion:
      return reader->ReadLong(&number) && number >= 0 &&
             static_cast<uint64_t>(number) < node.children.size() &&
             SkipNode(node.children[static_cast<size_t>(number)], reader, depth + 1);
    case Kind::kRecord:
      for (size_t field : node.children) {
        if (!SkipNode(field, reader, depth + 1)) return false;
      }
      return true;
    case Kind::kArray:
    case Kind::kMap: {
      const bool is_map = node.kind == Kind::kMap;
      const size_t item = node.children[0];
      for (;;) {
        int64_t count = 0;
        if (!reader->ReadBlockCount(&count)) return false;
        if (count == 0) return true;
        if (!is_map && nodes_[item].takes_no_bytes) continue;
        for (int64_t i = 0; i < count; ++i) {
          if (is_map && !reader->ReadBytes(&bytes)) return false;
          if (!SkipNode(item, reader, depth + 1)) return false;
        }
      }
    }
  }
  return false;
}

}  // namespace zerobus::table
