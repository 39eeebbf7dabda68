#include "table/proto_schema.h"

#include <cctype>
#include <set>

#include <google/protobuf/descriptor.h>

namespace zerobus::table {
namespace {

using google::protobuf::DescriptorProto;
using google::protobuf::FieldDescriptorProto;

constexpr int32_t kFirstReserved = 19000;  // protobuf's own range, 19000-19999
constexpr int32_t kReservedCount = 1000;

// "geo_point" -> "GeoPoint"; anything but ASCII letters and digits separates words.
std::string PascalCase(const std::string &name) {
  std::string out;
  bool upper = true;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) {
      upper = true;
      continue;
    }
    out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    upper = false;
  }
  if (out.empty() || std::isdigit(static_cast<unsigned char>(out[0]))) out.insert(0, "M");
  return out;
}

// The name protobuf requires of the entry message of map field `field`: its ToCamelCase() (each
// '_' dropped and the character after it upper-cased, the first one too) and "Entry".
std::string MapEntryName(const std::string &field) {
  std::string out;
  bool upper = true;
  for (char c : field) {
    if (c == '_') {
      upper = true;
    } else {
      out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
      upper = false;
    }
  }
  return out + "Entry";
}

FieldDescriptorProto::Type ScalarType(DeltaKind kind) {
  switch (kind) {
    case DeltaKind::kBoolean:
      return FieldDescriptorProto::TYPE_BOOL;
    case DeltaKind::kTinyint:
    case DeltaKind::kSmallint:
    case DeltaKind::kInt:
    case DeltaKind::kDate:
      return FieldDescriptorProto::TYPE_INT32;
    case DeltaKind::kBigint:
    case DeltaKind::kTimestamp:
    case DeltaKind::kTimestampNtz:
      return FieldDescriptorProto::TYPE_INT64;
    case DeltaKind::kFloat:
      return FieldDescriptorProto::TYPE_FLOAT;
    case DeltaKind::kDouble:
      return FieldDescriptorProto::TYPE_DOUBLE;
    case DeltaKind::kBinary:
      return FieldDescriptorProto::TYPE_BYTES;
    default:  // STRING, VARCHAR, CHAR, DECIMAL, VARIANT
      return FieldDescriptorProto::TYPE_STRING;
  }
}

class DescriptorBuilder {
 public:
  bool Build(const TableSchema &table, DescriptorProto *message, std::string *error) {
    const size_t dot = table.full_name.rfind('.');
    message->set_name(PascalCase(table.full_name.substr(dot == std::string::npos ? 0 : dot + 1)));
    if (!Fields(table.columns, "." + message->name(), 1, message)) {
      *error = error_;
      return false;
    }
    return true;
  }

 private:
  // The fields of `message`, whose fully qualified name is `scope`.
  bool Fields(const std::vector<DeltaField> &fields, const std::string &scope, int depth,
              DescriptorProto *message) {
    if (depth > kMaxNestingDepth) {
      error_ = "types nest deeper than " + std::to_string(kMaxNestingDepth) + " levels";
      return false;
    }
    // Fields and nested messages share the scope's names, and map entries must have exactly
    // the names protobuf gives them: nested STRUCT messages take what is left.
    std::set<std::string> taken;
    for (const DeltaField &field : fields) taken.insert(field.name);
    for (const DeltaField &field : fields) {
      if (field.type.kind != DeltaKind::kMap) continue;
      const std::string entry = MapEntryName(field.name);
      if (!taken.insert(entry).second) {
        error_ = "column '" + field.name + "': protobuf names its MAP entries " + entry +
                 ", which another column or MAP of the same STRUCT already is";
        return false;
      }
    }
    for (size_t i = 0; i < fields.size(); ++i) {
      if (!Field(fields[i], FieldNumber(i), scope, depth, &taken, message)) return false;
    }
    return true;
  }

  bool Field(const DeltaField &column, int32_t number, const std::string &scope, int depth,
             std::set<std::string> *taken, DescriptorProto *message) {
    if (const char *unsupported = UnsupportedNesting(column.type)) {
      error_ = "column '" + column.name + "': " + unsupported;
      return false;
    }
    FieldDescriptorProto *field = message->add_field();
    field->set_name(column.name);
    field->set_number(number);
    const DeltaType &type = column.type;
    if (type.kind == DeltaKind::kArray) {
      field->set_label(FieldDescriptorProto::LABEL_REPEATED);
      return Value(type.children[0], column.name, "", scope, depth, taken, field, message);
    }
    if (type.kind == DeltaKind::kMap) {
      field->set_label(FieldDescriptorProto::LABEL_REPEATED);
      field->set_type(FieldDescriptorProto::TYPE_MESSAGE);
      DescriptorProto *entry = message->add_nested_type();
      entry->set_name(MapEntryName(column.name));
      entry->mutable_options()->set_map_entry(true);
      field->set_type_name(scope + "." + entry->name());
      FieldDescriptorProto *key = entry->add_field();
      key->set_name("key");
      key->set_number(1);
      key->set_label(FieldDescriptorProto::LABEL_OPTIONAL);
      key->set_type(ScalarType(type.children[0].kind));
      FieldDescriptorProto *value = entry->add_field();
      value->set_name("value");
      value->set_number(2);
      value->set_label(FieldDescriptorProto::LABEL_OPTIONAL);
      // A STRUCT value is a sibling of the entry, not nested in it.
      return Value(type.children[1], column.name, "Value", scope, depth, taken, value, message);
    }
    field->set_label(column.nullable ? FieldDescriptorProto::LABEL_OPTIONAL
                                     : FieldDescriptorProto::LABEL_REQUIRED);
    return Value(type, column.name, "", scope, depth, taken, field, message);
  }

  // Types `field` as one value of `type`; a STRUCT becomes a message nested in `message`,
  // named after `name` + `suffix`.
  bool Value(const DeltaType &type, const std::string &name, const char *suffix,
             const std::string &scope, int depth, std::set<std::string> *taken,
             FieldDescriptorProto *field, DescriptorProto *message) {
    if (type.kind != DeltaKind::kStruct) {
      field->set_type(ScalarType(type.kind));
      return true;
    }
    const std::string base = PascalCase(name) + suffix;
    std::string unique = base;
    for (int n = 2; !taken->insert(unique).second; ++n) unique = base + std::to_string(n);
    DescriptorProto *nested = message->add_nested_type();
    nested->set_name(unique);
    field->set_type(FieldDescriptorProto::TYPE_MESSAGE);
    field->set_type_name(scope + "." + unique);
    return Fields(type.fields, scope + "." + unique, depth + 1, nested);
  }

  std::string error_;
};

// Keeps the first complaint of the descriptor pool instead of logging it.
class FirstError : public google::protobuf::DescriptorPool::ErrorCollector {
 public:
  void AddError(const std::string &element, const std::string & /*element_name*/,
                const google::protobuf::Message * /*descriptor*/, ErrorLocation /*location*/,
                const std::string &message) override {
    if (first.empty()) first = element + ": " + message;
  }
  std::string first;
};

}  // namespace

int32_t FieldNumber(size_t index) {
  const auto number = static_cast<int32_t>(index) + 1;
  return number < kFirstReserved ? number : number + kReservedCount;
}

bool BuildDescriptor(const TableSchema &table, DescriptorProto *message, std::string *error) {
  message->Clear();
  return DescriptorBuilder().Build(table, message, error);
}

bool ProtoSource(const DescriptorProto &message, std::string *source, std::string *error) {
  google::protobuf::FileDescriptorProto file;
  file.set_name(message.name() + ".proto");
  file.set_syntax("proto2");
  *file.add_message_type() = message;
  google::protobuf::DescriptorPool pool;
  FirstError errors;
  const google::protobuf::FileDescriptor *built = pool.BuildFileCollectingErrors(file, &errors);
  if (built == nullptr) {
    *error = "protobuf refuses the message: " + errors.first;
    return false;
  }
  *source = built->DebugString();
  return true;
}

}  // namespace zerobus::table
