#include "table/delta_type.h"

#include <cctype>

namespace zerobus::table {

bool IsComplex(DeltaKind kind) {
  return kind == DeltaKind::kArray || kind == DeltaKind::kMap || kind == DeltaKind::kStruct;
}

bool IsIntegral(DeltaKind kind) {
  switch (kind) {
    case DeltaKind::kTinyint:
    case DeltaKind::kSmallint:
    case DeltaKind::kInt:
    case DeltaKind::kBigint:
    case DeltaKind::kDate:
    case DeltaKind::kTimestamp:
    case DeltaKind::kTimestampNtz:
      return true;
    default:
      return false;
  }
}

std::string TypeText(const DeltaType &type) {
  switch (type.kind) {
    case DeltaKind::kString:
      return "string";
    case DeltaKind::kVarchar:
      return "varchar(" + std::to_string(type.length) + ")";
    case DeltaKind::kChar:
      return "char(" + std::to_string(type.length) + ")";
    case DeltaKind::kBoolean:
      return "boolean";
    case DeltaKind::kTinyint:
      return "tinyint";
    case DeltaKind::kSmallint:
      return "smallint";
    case DeltaKind::kInt:
      return "int";
    case DeltaKind::kBigint:
      return "bigint";
    case DeltaKind::kFloat:
      return "float";
    case DeltaKind::kDouble:
      return "double";
    case DeltaKind::kDecimal:
      return "decimal(" + std::to_string(type.precision) + "," + std::to_string(type.scale) + ")";
    case DeltaKind::kDate:
      return "date";
    case DeltaKind::kTimestamp:
      return "timestamp";
    case DeltaKind::kTimestampNtz:
      return "timestamp_ntz";
    case DeltaKind::kBinary:
      return "binary";
    case DeltaKind::kVariant:
      return "variant";
    case DeltaKind::kArray:
      return "array<" + TypeText(type.children.at(0)) + ">";
    case DeltaKind::kMap:
      return "map<" + TypeText(type.children.at(0)) + "," + TypeText(type.children.at(1)) + ">";
    case DeltaKind::kStruct: {
      std::string text = "struct<";
      for (size_t i = 0; i < type.fields.size(); ++i) {
        if (i > 0) text += ",";
        text += type.fields[i].name + ":" + TypeText(type.fields[i].type);
      }
      return text + ">";
    }
  }
  return "";
}

const char *TypeName(const DeltaType &type) {
  switch (type.kind) {
    case DeltaKind::kString:
    case DeltaKind::kVarchar:
      return "STRING";
    case DeltaKind::kChar:
      return "CHAR";
    case DeltaKind::kBoolean:
      return "BOOLEAN";
    case DeltaKind::kTinyint:
      return "BYTE";
    case DeltaKind::kSmallint:
      return "SHORT";
    case DeltaKind::kInt:
      return "INT";
    case DeltaKind::kBigint:
      return "LONG";
    case DeltaKind::kFloat:
      return "FLOAT";
    case DeltaKind::kDouble:
      return "DOUBLE";
    case DeltaKind::kDecimal:
      return "DECIMAL";
    case DeltaKind::kDate:
      return "DATE";
    case DeltaKind::kTimestamp:
      return "TIMESTAMP";
    case DeltaKind::kTimestampNtz:
      return "TIMESTAMP_NTZ";
    case DeltaKind::kBinary:
      return "BINARY";
    case DeltaKind::kVariant:
      return "VARIANT";
    case DeltaKind::kArray:
      return "ARRAY";
    case DeltaKind::kMap:
      return "MAP";
    case DeltaKind::kStruct:
      return "STRUCT";
  }
  return "";
}

const char *UnsupportedNesting(const DeltaType &type) {
  if (type.kind == DeltaKind::kArray) {
    const DeltaKind element = type.children.at(0).kind;
    if (element == DeltaKind::kArray || element == DeltaKind::kMap) {
      return "ARRAY of ARRAY or MAP is not supported; wrap the inner type in a STRUCT";
    }
  } else if (type.kind == DeltaKind::kMap) {
    switch (type.children.at(0).kind) {
      case DeltaKind::kString:
      case DeltaKind::kVarchar:
      case DeltaKind::kChar:
      case DeltaKind::kBoolean:
      case DeltaKind::kTinyint:
      case DeltaKind::kSmallint:
      case DeltaKind::kInt:
      case DeltaKind::kBigint:
        break;
      default:
        return "MAP keys must be an integer type, BOOLEAN or STRING";
    }
    const DeltaKind value = type.children.at(1).kind;
    if (value == DeltaKind::kArray || value == DeltaKind::kMap) {
      return "MAP values may not be ARRAY or MAP; wrap them in a STRUCT";
    }
  }
  return nullptr;
}

bool IsValidTableNamePart(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

bool IsValidColumnName(const std::string &name) {
  return IsValidTableNamePart(name) && !std::isdigit(static_cast<unsigned char>(name[0]));
}

bool SameColumnName(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

const DeltaField *FindField(const std::vector<DeltaField> &fields, const std::string &name) {
  for (const DeltaField &field : fields) {
    if (SameColumnName(field.name, name)) return &field;
  }
  return nullptr;
}

}  // namespace zerobus::table
