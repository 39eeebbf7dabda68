#include "server/descriptor_check.h"

#include <set>

#include <google/protobuf/descriptor.pb.h>

namespace zerobus::server {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

grpc::Status Invalid(std::string message) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, std::move(message));
}

// Collects the pool's complaints instead of logging them.
class ErrorCollector : public google::protobuf::DescriptorPool::ErrorCollector {
 public:
  void AddError(const std::string &element, const std::string & /*element_name*/,
                const google::protobuf::Message * /*descriptor*/, ErrorLocation /*location*/,
                const std::string &message) override {
    if (first_.empty()) first_ = element + ": " + message;
  }
  const std::string &first() const { return first_; }

 private:
  std::string first_;
};

// The proto types the service maps each scalar Delta type to (zerobus-service.md §4.1); the
// signed varint, zigzag and fixed encodings of an integer are all the same integer.
bool ScalarMatches(table::DeltaKind kind, FieldDescriptor::Type type) {
  switch (kind) {
    case table::DeltaKind::kString:
    case table::DeltaKind::kVarchar:
    case table::DeltaKind::kChar:
    case table::DeltaKind::kDecimal:
    case table::DeltaKind::kVariant:
      return type == FieldDescriptor::TYPE_STRING;
    case table::DeltaKind::kBoolean:
      return type == FieldDescriptor::TYPE_BOOL;
    case table::DeltaKind::kTinyint:
    case table::DeltaKind::kSmallint:
    case table::DeltaKind::kInt:
    case table::DeltaKind::kDate:
      return type == FieldDescriptor::TYPE_INT32 || type == FieldDescriptor::TYPE_SINT32 ||
             type == FieldDescriptor::TYPE_SFIXED32;
    case table::DeltaKind::kBigint:
    case table::DeltaKind::kTimestamp:
    case table::DeltaKind::kTimestampNtz:
      return type == FieldDescriptor::TYPE_INT64 || type == FieldDescriptor::TYPE_SINT64 ||
             type == FieldDescriptor::TYPE_SFIXED64;
    case table::DeltaKind::kFloat:
      return type == FieldDescriptor::TYPE_FLOAT;
    case table::DeltaKind::kDouble:
      return type == FieldDescriptor::TYPE_DOUBLE;
    case table::DeltaKind::kBinary:
      return type == FieldDescriptor::TYPE_BYTES;
    default:
      return false;
  }
}

const char *ExpectedProto(table::DeltaKind kind) {
  switch (kind) {
    case table::DeltaKind::kBoolean:
      return "bool";
    case table::DeltaKind::kTinyint:
    case table::DeltaKind::kSmallint:
    case table::DeltaKind::kInt:
    case table::DeltaKind::kDate:
      return "int32";
    case table::DeltaKind::kBigint:
    case table::DeltaKind::kTimestamp:
    case table::DeltaKind::kTimestampNtz:
      return "int64";
    case table::DeltaKind::kFloat:
      return "float";
    case table::DeltaKind::kDouble:
      return "double";
    case table::DeltaKind::kBinary:
      return "bytes";
    case table::DeltaKind::kStruct:
      return "a message";
    case table::DeltaKind::kArray:
      return "a repeated field";
    case table::DeltaKind::kMap:
      return "a map (repeated key/value entries)";
    default:
      return "string";
  }
}

class Checker {
 public:
  explicit Checker(CheckedDescriptor *checked) : checked_(checked) {}

  grpc::Status Message(const Descriptor *message, const std::vector<table::DeltaField> &fields,
                       const std::string &prefix) {
    std::vector<const FieldDescriptor *> *field_of_column = &checked_->fields_of[&fields];
    field_of_column->assign(fields.size(), nullptr);
    for (int i = 0; i < message->field_count(); ++i) {
      const FieldDescriptor *field = message->field(i);
      const std::string path = prefix + field->name();
      const table::DeltaField *column = table::FindField(fields, field->name());
      if (column == nullptr) {
        return Invalid("descriptor field '" + path + "' is not a column of the table");
      }
      const size_t index = static_cast<size_t>(column - fields.data());
      if ((*field_of_column)[index] != nullptr) {
        return Invalid("descriptor fields '" + (*field_of_column)[index]->name() + "' and '" +
                       field->name() + "' both name column '" + prefix + column->name + "'");
      }
      (*field_of_column)[index] = field;
      grpc::Status status = Field(field, *column, path);
      if (!status.ok()) return status;
    }
    for (size_t i = 0; i < fields.size(); ++i) {
      if ((*field_of_column)[i] == nullptr && !fields[i].nullable) {
        return Invalid("descriptor leaves out NOT NULL column '" + prefix + fields[i].name + "'");
      }
    }
    return grpc::Status::OK;
  }

 private:
  grpc::Status Field(const FieldDescriptor *field, const table::DeltaField &column,
                     const std::string &path) {
    const table::DeltaKind kind = column.type.kind;
    const bool repeated_kind = kind == table::DeltaKind::kArray || kind == table::DeltaKind::kMap;
    if (field->is_repeated() != repeated_kind) {
      return Mismatch(field, column.type, path);
    }
    // ARRAY and MAP have no presence in proto: an absent one is empty, never NULL.
    if (!repeated_kind && !column.nullable && !field->is_required()) {
      return Invalid("descriptor field '" + path + "' must be required: column '" + path +
                     "' is NOT NULL");
    }
    if (kind == table::DeltaKind::kArray) return Value(field, column.type.children[0], path);
    if (kind == table::DeltaKind::kMap) {
      const Descriptor *entry = field->message_type();
      const FieldDescriptor *key = entry == nullptr ? nullptr : entry->FindFieldByNumber(1);
      const FieldDescriptor *value = entry == nullptr ? nullptr : entry->FindFieldByNumber(2);
      if (key == nullptr || value == nullptr || entry->field_count() != 2 || key->is_repeated() ||
          value->is_repeated()) {
        return Mismatch(field, column.type, path);
      }
      grpc::Status status = Value(key, column.type.children[0], path + ".key");
      if (!status.ok()) return status;
      return Value(value, column.type.children[1], path + ".value");
    }
    return Value(field, column.type, path);
  }

  // The type of one value of `field` (an element, for repeated fields) against `type`.
  grpc::Status Value(const FieldDescriptor *field, const table::DeltaType &type,
                     const std::string &path) {
    if (type.kind == table::DeltaKind::kStruct) {
      if (field->type() != FieldDescriptor::TYPE_MESSAGE || field->message_type() == nullptr ||
          field->message_type()->options().map_entry()) {
        return Mismatch(field, type, path);
      }
      return Message(field->message_type(), type.fields, path + ".");
    }
    if (!ScalarMatches(type.kind, field->type())) return Mismatch(field, type, path);
    return grpc::Status::OK;
  }

  static grpc::Status Mismatch(const FieldDescriptor *field, const table::DeltaType &type,
                               const std::string &path) {
    std::string has = field->is_repeated() ? "repeated " : "";
    has += field->type() == FieldDescriptor::TYPE_MESSAGE ? "message" : field->type_name();
    return Invalid("descriptor field '" + path + "' is " + has + " but column '" + path + "' is " +
                   table::TypeText(type) + ", which needs " + ExpectedProto(type.kind));
  }

  CheckedDescriptor *checked_;
};

}  // namespace

grpc::Status CheckDescriptor(const std::string &descriptor_proto, const table::TableSchema *table,
                             CheckedDescriptor *checked) {
  google::protobuf::FileDescriptorProto file;
  if (!file.add_message_type()->ParseFromString(descriptor_proto) ||
      file.message_type(0).name().empty()) {
    return Invalid("descriptor_proto is not a serialized google.protobuf.DescriptorProto");
  }
  // A lone message with its nested types inline and no imports, as the service takes it.
  file.set_name("zerobus_stream_descriptor.proto");
  file.set_syntax("proto2");
  if (file.message_type(0).field_size() > static_cast<int>(table::kMaxColumns)) {
    return Invalid("descriptor has " + std::to_string(file.message_type(0).field_size()) +
                   " fields; at most " + std::to_string(table::kMaxColumns) +
                   " columns are allowed");
  }
  checked->pool = std::make_unique<google::protobuf::DescriptorPool>();
  ErrorCollector errors;
  const google::protobuf::FileDescriptor *built =
      checked->pool->BuildFileCollectingErrors(file, &errors);
  if (built == nullptr) {
    return Invalid("descriptor_proto does not describe a valid message: " + errors.first());
  }
  checked->message = built->message_type(0);
  if (table == nullptr) return grpc::Status::OK;
  return Checker(checked).Message(checked->message, table->columns, "");
}

}  // namespace zerobus::server
