// Avro records: one raw datum of the stream's writer schema each, read with the plan that
// ResolveAvroSchema() made of it, value by value, every length and count checked.
#include <cmath>

#include "server/record_decoder.h"
#include "server/row_json.h"
#include "table/avro_binary.h"
#include "table/value_checks.h"

namespace zerobus::server {
namespace {

using table::AvroNode;
using table::AvroReader;
using table::DeltaKind;

std::string At(const std::string &path, const std::string &what) {
  return "column '" + path + "': " + what;
}

class AvroDecoder : public RecordDecoder {
 public:
  AvroDecoder(const table::TableSchema &table, table::AvroPlan plan)
      : table_(table), plan_(std::move(plan)) {}

  std::string Decode(std::string_view record, Row *row) override {
    AvroReader reader(record);
    row->assign(table_.columns.size(), SqlValue::Null());
    for (const AvroNode::Field &field : plan_.root.fields) {
      const table::DeltaField &column = table_.columns[field.column];
      SqlValue value;
      std::string error = Column(&reader, field.node[0], column, column.name, &value);
      if (!error.empty()) return error;
      (*row)[field.column] = std::move(value);
    }
    if (!reader.done()) {
      return "record has " + std::to_string(reader.left()) +
             " bytes after the datum of the writer schema";
    }
    return "";
  }

 private:
  // A column or STRUCT field: NULL for a null branch (refused for NOT NULL), JSON text when
  // nested, else its scalar.
  std::string Column(AvroReader *reader, const AvroNode &node, const table::DeltaField &field,
                     const std::string &path, SqlValue *out) {
    bool is_null = false;
    std::string error = Branch(reader, node, path, &is_null);
    if (!error.empty()) return error;
    if (is_null) {
      if (!field.nullable) return At(path, "is NOT NULL but the record has null");
      *out = SqlValue::Null();
      return "";
    }
    if (!table::IsComplex(node.type->kind)) return Scalar(reader, node, path, out);
    nlohmann::json json;
    error = Nested(reader, node, path, &json);
    if (!error.empty()) return error;
    *out = SqlValue::Text(json.dump());
    return "";
  }

  // The union branch of a nullable writer type.
  static std::string Branch(AvroReader *reader, const AvroNode &node, const std::string &path,
                            bool *is_null) {
    *is_null = false;
    if (node.null_branch < 0) return "";
    int64_t branch = 0;
    if (!reader->ReadLong(&branch)) return At(path, "the record ends inside its union index");
    if (branch != 0 && branch != 1) {
      return At(path, "union branch " + std::to_string(branch) + " of a union of 2");
    }
    *is_null = branch == node.null_branch;
    return "";
  }

  static std::string Truncated(const std::string &path) {
    return At(path, "the record ends inside the value, or the value is malformed");
  }

  static std::string Scalar(AvroReader *reader, const AvroNode &node, const std::string &path,
                            SqlValue *out) {
    const table::DeltaType &type = *node.type;
    switch (node.kind) {
      case AvroNode::Kind::kBoolean: {
        bool value = false;
        if (!reader->ReadBoolean(&value)) return Truncated(path);
        *out = SqlValue::Integer(value ? 1 : 0);
        return "";
      }
      case AvroNode::Kind::kInt:
      case AvroNode::Kind::kLong: {
        int64_t value = 0;
        if (node.kind == AvroNode::Kind::kInt) {
          int32_t narrow = 0;
          if (!reader->ReadInt(&narrow)) return Truncated(path);
          value = narrow;
        } else if (!reader->ReadLong(&value)) {
          return Truncated(path);
        }
        if (node.unit == AvroNode::Unit::kMillis) {
          if (value > INT64_MAX / 1000 || value < INT64_MIN / 1000) {
            return At(path, "the timestamp is out of range");
          }
          value *= 1000;
        }
        const std::string error = table::CheckIntegerRange(type, value);
        if (!error.empty()) return At(path, error);
        *out = SqlValue::Integer(value);
        return "";
      }
      case AvroNode::Kind::kFloat:
      case AvroNode::Kind::kDouble: {
        double value = 0;
        if (node.kind == AvroNode::Kind::kFloat) {
          float narrow = 0;
          if (!reader->ReadFloat(&narrow)) return Truncated(path);
          value = narrow;
        } else if (!reader->ReadDouble(&value)) {
          return Truncated(path);
        }
        const std::string error = table::CheckRealRange(type, value);
        if (!error.empty()) return At(path, error);
        *out = SqlValue::Real(value);
        return "";
      }
      case AvroNode::Kind::kBytes:
      case AvroNode::Kind::kFixed: {
        std::string_view bytes;
        if (!(node.kind == AvroNode::Kind::kBytes ? reader->ReadBytes(&bytes)
                                                  : reader->ReadFixed(node.fixed_size, &bytes))) {
          return Truncated(path);
        }
        if (!node.decimal) {
          *out = SqlValue::Blob(std::string(bytes));
          return "";
        }
        std::string text;
        if (!table::DecimalFromAvro(bytes, node.scale, &text)) {
          return At(path, "a decimal of " + std::to_string(bytes.size()) +
                              " bytes: DECIMAL values take 1 to 16");
        }
        const std::string error = table::CheckDecimal(type, text);
        if (!error.empty()) return At(path, error);
        *out = SqlValue::Text(std::move(text));
        return "";
      }
      case AvroNode::Kind::kString:
      case AvroNode::Kind::kEnum: {
        std::string text;
        if (node.kind == AvroNode::Kind::kString) {
          std::string_view bytes;
          if (!reader->ReadBytes(&bytes)) return Truncated(path);
          text.assign(bytes);
        } else {
          int32_t index = 0;
          if (!reader->ReadInt(&index)) return Truncated(path);
          if (index < 0 || static_cast<size_t>(index) >= node.symbols.size()) {
            return At(path, "enum index " + std::to_string(index) + " of " +
                                std::to_string(node.symbols.size()) + " symbols");
          }
          text = node.symbols[static_cast<size_t>(index)];
        }
        const std::string error = type.kind == DeltaKind::kVariant ? table::CheckVariant(text)
                                                                   : table::CheckText(type, text);
        if (!error.empty()) return At(path, error);
        *out = SqlValue::Text(std::move(text));
        return "";
      }
      case AvroNode::Kind::kArray:
      case AvroNode::Kind::kMap:
      case AvroNode::Kind::kRecord:
        break;  // ResolveAvroSchema() pairs these with nested columns only
    }
    return At(path, "has an unexpected Avro type");
  }

  // An ARRAY, MAP or STRUCT value as JSON.
  std::string Nested(AvroReader *reader, const AvroNode &node, const std::string &path,
                     nlohmann::json *out) {
    if (node.kind == AvroNode::Kind::kRecord) return Struct(reader, node, path, out);
    const bool is_map = node.kind == AvroNode::Kind::kMap;
    *out = is_map ? nlohmann::json::object() : nlohmann::json::array();
    const AvroNode &item = node.children[0];
    size_t index = 0;
    for (;;) {
      int64_t count = 0;
      if (!reader->ReadBlockCount(&count)) {
        return At(path, "a block count that the record's bytes cannot hold");
      }
      if (count == 0) return "";
      for (int64_t i = 0; i < count; ++i, ++index) {
        std::string key;
        if (is_map) {
          std::string_view bytes;
          if (!reader->ReadBytes(&bytes)) return Truncated(path);
          key.assign(bytes);
          const std::string error = table::CheckText(node.type->children[0], key);
          if (!error.empty()) return At(path + "[\"" + table::Excerpt(key) + "\"]", error);
        }
        const std::string item_path = is_map ? path + "[\"" + table::Excerpt(key) + "\"]"
                                             : path + "[" + std::to_string(index) + "]";
        bool is_null = false;
        std::string error = Branch(reader, item, item_path, &is_null);
        if (!error.empty()) return error;
        if (is_null) {
          return At(item_path,
                    is_map ? "a map value cannot be null" : "array elements cannot be null");
        }
        nlohmann::json value;
        error = Value(reader, item, item_path, &value);
        if (!error.empty()) return error;
        if (is_map) {
          (*out)[key] = std::move(value);
        } else {
          out->push_back(std::move(value));
        }
      }
    }
  }

  // One value, past its union index, as it goes into the JSON of a nested column.
  std::string Value(AvroReader *reader, const AvroNode &node, const std::string &path,
                    nlohmann::json *out) {
    if (table::IsComplex(node.type->kind)) return Nested(reader, node, path, out);
    SqlValue scalar;
    std::string error = Scalar(reader, node, path, &scalar);
    if (error.empty()) *out = NestedJson(scalar);
    return error;
  }

  std::string Struct(AvroReader *reader, const AvroNode &node, const std::string &path,
                     nlohmann::json *out) {
    *out = nlohmann::json::object();
    for (const table::DeltaField &member : node.type->fields) (*out)[member.name] = nullptr;
    for (const AvroNode::Field &field : node.fields) {
      const table::DeltaField &member = node.type->fields[field.column];
      const std::string member_path = path + "." + member.name;
      bool is_null = false;
      std::string error = Branch(reader, field.node[0], member_path, &is_null);
      if (!error.empty()) return error;
      if (is_null) {
        if (!member.nullable) return At(member_path, "is NOT NULL but the record has null");
        continue;
      }
      error = Value(reader, field.node[0], member_path, &(*out)[member.name]);
      if (!error.empty()) return error;
    }
    return "";
  }

  const table::TableSchema &table_;
  const table::AvroPlan plan_;
};

}  // namespace

std::unique_ptr<RecordDecoder> NewAvroDecoder(const table::TableSchema &table,
                                              table::AvroPlan plan) {
  return std::make_unique<AvroDecoder>(table, std::move(plan));
}

}  // namespace zerobus::server
