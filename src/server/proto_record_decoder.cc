// Protobuf records: parsed with a DynamicMessage of the stream's descriptor, then read column
// by column through reflection.
#include <limits>

#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/message.h>
#include <google/protobuf/unknown_field_set.h>

#include "server/record_decoder.h"
#include "server/row_json.h"
#include "table/value_checks.h"

namespace zerobus::server {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

class ProtoDecoder : public RecordDecoder {
 public:
  ProtoDecoder(const table::TableSchema &table, CheckedDescriptor descriptor)
      : table_(table), descriptor_(std::move(descriptor)) {
    message_.reset(factory_.GetPrototype(descriptor_.message)->New());
  }

  std::string Decode(std::string_view record, Row *row) override {
    message_->Clear();
    // Partial: a missing required field is reported below with its column's name.
    if (record.size() > static_cast<size_t>(std::numeric_limits<int>::max()) ||
        !message_->ParsePartialFromArray(record.data(), static_cast<int>(record.size()))) {
      return "not a valid serialized " + descriptor_.message->name() + " message";
    }
    row->clear();
    row->reserve(table_.columns.size());
    std::string error = Unknown(*message_, "");
    if (!error.empty()) return error;
    const auto &fields = descriptor_.fields_of.at(&table_.columns);
    for (size_t i = 0; i < table_.columns.size(); ++i) {
      const table::DeltaField &column = table_.columns[i];
      const FieldDescriptor *field = fields[i];
      if (field == nullptr) {
        row->push_back(SqlValue::Null());
        continue;
      }
      SqlValue value;
      error = Column(*message_, field, column, column.name, &value);
      if (!error.empty()) return error;
      row->push_back(std::move(value));
    }
    return "";
  }

 private:
  // Fields the descriptor does not know arrive as unknown fields: a record of another schema.
  static std::string Unknown(const Message &message, const std::string &prefix) {
    const google::protobuf::UnknownFieldSet &unknown =
        message.GetReflection()->GetUnknownFields(message);
    if (unknown.empty()) return "";
    return (prefix.empty() ? std::string("record") : "column '" + prefix + "'") +
           " has field number " + std::to_string(unknown.field(0).number()) +
           ", which the stream's descriptor does not define";
  }

  static std::string At(const std::string &path, const std::string &what) {
    return "column '" + path + "': " + what;
  }

  // A column or STRUCT field: NULL when absent, JSON text when nested, else its scalar.
  std::string Column(const Message &message, const FieldDescriptor *field,
                     const table::DeltaField &column, const std::string &path, SqlValue *out) {
    const Reflection *reflection = message.GetReflection();
    if (!field->is_repeated() && !reflection->HasField(message, field)) {
      if (!column.nullable) return At(path, "is NOT NULL but the record has no value");
      *out = SqlValue::Null();
      return "";
    }
    if (!table::IsComplex(column.type.kind))
      return Scalar(message, field, -1, column.type, path, out);
    nlohmann::json json;
    std::string error = Nested(message, field, column.type, path, &json);
    if (!error.empty()) return error;
    *out = SqlValue::Text(json.dump());
    return "";
  }

  // One value (element `index` of a repeated field, or the field itself when -1) of a scalar
  // column type.
  static std::string Scalar(const Message &message, const FieldDescriptor *field, int index,
                            const table::DeltaType &type, const std::string &path, SqlValue *out) {
    const Reflection *r = message.GetReflection();
    const bool one = index < 0;
    switch (field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_INT32:
      case FieldDescriptor::CPPTYPE_INT64: {
        const int64_t value =
            field->cpp_type() == FieldDescriptor::CPPTYPE_INT32
                ? (one ? r->GetInt32(message, field) : r->GetRepeatedInt32(message, field, index))
                : (one ? r->GetInt64(message, field) : r->GetRepeatedInt64(message, field, index));
        const std::string error = table::CheckIntegerRange(type, value);
        if (!error.empty()) return At(path, error);
        *out = SqlValue::Integer(value);
        return "";
      }
      case FieldDescriptor::CPPTYPE_BOOL:
        *out = SqlValue::Integer(
            (one ? r->GetBool(message, field) : r->GetRepeatedBool(message, field, index)) ? 1 : 0);
        return "";
      case FieldDescriptor::CPPTYPE_FLOAT:
        *out = SqlValue::Real(one ? r->GetFloat(message, field)
                                  : r->GetRepeatedFloat(message, field, index));
        return "";
      case FieldDescriptor::CPPTYPE_DOUBLE:
        *out = SqlValue::Real(one ? r->GetDouble(message, field)
                                  : r->GetRepeatedDouble(message, field, index));
        return "";
      case FieldDescriptor::CPPTYPE_STRING: {
        std::string value =
            one ? r->GetString(message, field) : r->GetRepeatedString(message, field, index);
        if (type.kind == table::DeltaKind::kBinary) {
          *out = SqlValue::Blob(std::move(value));
          return "";
        }
        std::string error =
            type.kind == table::DeltaKind::kDecimal   ? table::CheckDecimal(type, value)
            : type.kind == table::DeltaKind::kVariant ? table::CheckVariant(value)
                                                      : table::CheckText(type, value);
        if (!error.empty()) return At(path, error);
        *out = SqlValue::Text(std::move(value));
        return "";
      }
      default:
        // The descriptor check lets no other type through for a scalar column.
        return At(path, "has an unexpected proto type");
    }
  }

  // An ARRAY, MAP or STRUCT value as JSON.
  std::string Nested(const Message &message, const FieldDescriptor *field,
                     const table::DeltaType &type, const std::string &path, nlohmann::json *out) {
    const Reflection *r = message.GetReflection();
    if (type.kind == table::DeltaKind::kStruct) {
      return Struct(r->GetMessage(message, field), type, path, out);
    }
    const int size = r->FieldSize(message, field);
    if (type.kind == table::DeltaKind::kArray) {
      *out = nlohmann::json::array();
      const table::DeltaType &element = type.children[0];
      for (int i = 0; i < size; ++i) {
        const std::string item = path + "[" + std::to_string(i) + "]";
        nlohmann::json value;
        std::string error =
            element.kind == table::DeltaKind::kStruct
                ? Struct(r->GetRepeatedMessage(message, field, i), element, item, &value)
                : ScalarJson(message, field, i, element, item, &value);
        if (!error.empty()) return error;
        out->push_back(std::move(value));
      }
      return "";
    }
    // A MAP: repeated entries of key (field 1) and value (field 2), as a JSON object.
    *out = nlohmann::json::object();
    for (int i = 0; i < size; ++i) {
      const Message &entry = r->GetRepeatedMessage(message, field, i);
      const Descriptor *entry_type = entry.GetDescriptor();
      const FieldDescriptor *key_field = entry_type->FindFieldByNumber(1);
      const FieldDescriptor *value_field = entry_type->FindFieldByNumber(2);
      nlohmann::json key;
      std::string error = ScalarJson(entry, key_field, -1, type.children[0], path + ".key", &key);
      if (!error.empty()) return error;
      const std::string item = path + "[" + key.dump() + "]";
      nlohmann::json value;
      if (!entry.GetReflection()->HasField(entry, value_field)) {
        return At(item, "a map value cannot be null");
      }
      error = type.children[1].kind == table::DeltaKind::kStruct
                  ? Struct(entry.GetReflection()->GetMessage(entry, value_field), type.children[1],
                           item, &value)
                  : ScalarJson(entry, value_field, -1, type.children[1], item, &value);
      if (!error.empty()) return error;
      // Object keys are text, spelled as a JSON record spells them: "true", not "1".
      const std::string key_text = key.is_string() ? key.get<std::string>()
                                   : type.children[0].kind == table::DeltaKind::kBoolean
                                       ? (key == 1 ? "true" : "false")
                                       : key.dump();
      (*out)[key_text] = std::move(value);
    }
    return "";
  }

  static std::string ScalarJson(const Message &message, const FieldDescriptor *field, int index,
                                const table::DeltaType &type, const std::string &path,
                                nlohmann::json *out) {
    SqlValue value;
    std::string error = Scalar(message, field, index, type, path, &value);
    if (error.empty()) *out = NestedJson(value);
    return error;
  }

  std::string Struct(const Message &message, const table::DeltaType &type, const std::string &path,
                     nlohmann::json *out) {
    std::string error = Unknown(message, path);
    if (!error.empty()) return error;
    *out = nlohmann::json::object();
    const auto &fields = descriptor_.fields_of.at(&type.fields);
    for (size_t i = 0; i < type.fields.size(); ++i) {
      const table::DeltaField &member = type.fields[i];
      const std::string member_path = path + "." + member.name;
      if (fields[i] == nullptr) {
        (*out)[member.name] = nullptr;
        continue;
      }
      const Reflection *r = message.GetReflection();
      if (!fields[i]->is_repeated() && !r->HasField(message, fields[i])) {
        if (!member.nullable) return At(member_path, "is NOT NULL but the record has no value");
        (*out)[member.name] = nullptr;
        continue;
      }
      nlohmann::json value;
      error = table::IsComplex(member.type.kind)
                  ? Nested(message, fields[i], member.type, member_path, &value)
                  : ScalarJson(message, fields[i], -1, member.type, member_path, &value);
      if (!error.empty()) return error;
      (*out)[member.name] = std::move(value);
    }
    return "";
  }

  const table::TableSchema &table_;
  CheckedDescriptor descriptor_;
  google::protobuf::DynamicMessageFactory factory_;
  std::unique_ptr<Message> message_;
};

}  // namespace

std::unique_ptr<RecordDecoder> NewProtoDecoder(const table::TableSchema &table,
                                               CheckedDescriptor descriptor) {
  return std::make_unique<ProtoDecoder>(table, std::move(descriptor));
}

}  // namespace zerobus::server
