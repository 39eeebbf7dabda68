#include "arrow/delta_mapping.h"

namespace zerobus::arrow {
namespace {

using table::DeltaKind;

constexpr const char *kUtc = "UTC";

}  // namespace

Status ExpectedArrowType(const table::DeltaType &delta, const std::string &column, DataType *out) {
  DataType type;
  switch (delta.kind) {
    case DeltaKind::kString:
    case DeltaKind::kVarchar:
    case DeltaKind::kChar:
      type.id = TypeId::kUtf8;
      break;
    case DeltaKind::kBoolean:
      type.id = TypeId::kBoolean;
      break;
    case DeltaKind::kTinyint:
      type.id = TypeId::kInt8;
      break;
    case DeltaKind::kSmallint:
      type.id = TypeId::kInt16;
      break;
    case DeltaKind::kInt:
      type.id = TypeId::kInt32;
      break;
    case DeltaKind::kBigint:
      type.id = TypeId::kInt64;
      break;
    case DeltaKind::kFloat:
      type.id = TypeId::kFloat32;
      break;
    case DeltaKind::kDouble:
      type.id = TypeId::kFloat64;
      break;
    case DeltaKind::kDecimal:
      type.id = TypeId::kDecimal128;
      type.precision = delta.precision;
      type.scale = delta.scale;
      break;
    case DeltaKind::kDate:
      type.id = TypeId::kDate32;
      break;
    case DeltaKind::kTimestamp:
      type.id = TypeId::kTimestampMicros;
      type.timezone = kUtc;
      break;
    case DeltaKind::kTimestampNtz:
      type.id = TypeId::kTimestampMicros;
      break;
    case DeltaKind::kBinary:
      type.id = TypeId::kBinary;
      break;
    case DeltaKind::kVariant:
      return Status::Invalid("column '" + column + "': VARIANT has no Arrow type yet");
    case DeltaKind::kArray: {
      type.id = TypeId::kList;
      Field element{"element", {}, true};
      Status status = ExpectedArrowType(delta.children.at(0), column + ".element", &element.type);
      if (!status.ok()) return status;
      type.children.push_back(std::move(element));
      break;
    }
    case DeltaKind::kMap: {
      type.id = TypeId::kMap;
      Field key{"key", {}, false};
      Field value{"value", {}, true};
      Status status = ExpectedArrowType(delta.children.at(0), column + ".key", &key.type);
      if (status.ok())
        status = ExpectedArrowType(delta.children.at(1), column + ".value", &value.type);
      if (!status.ok()) return status;
      Field entries{"entries", {}, false};
      entries.type.id = TypeId::kStruct;
      entries.type.children = {std::move(key), std::move(value)};
      type.children.push_back(std::move(entries));
      break;
    }
    case DeltaKind::kStruct:
      type.id = TypeId::kStruct;
      for (const table::DeltaField &field : delta.fields) {
        Field child{field.name, {}, field.nullable};
        Status status = ExpectedArrowType(field.type, column + "." + field.name, &child.type);
        if (!status.ok()) return status;
        type.children.push_back(std::move(child));
      }
      break;
  }
  *out = std::move(type);
  return Status::Ok();
}

bool AcceptsArrowType(const table::DeltaType &delta, const DataType &arrow) {
  DataType expected;
  if (!ExpectedArrowType(delta, "", &expected).ok()) return false;
  switch (expected.id) {
    case TypeId::kUtf8:
      return arrow.id == TypeId::kUtf8 || arrow.id == TypeId::kLargeUtf8;
    case TypeId::kBinary:
      return arrow.id == TypeId::kBinary || arrow.id == TypeId::kLargeBinary;
    case TypeId::kTimestampMicros:
      return arrow.id == TypeId::kTimestampMicros &&
             arrow.timezone.empty() == expected.timezone.empty();
    case TypeId::kDecimal128:
      return arrow.id == TypeId::kDecimal128 && arrow.precision == expected.precision &&
             arrow.scale == expected.scale;
    case TypeId::kList:
      return arrow.id == TypeId::kList &&
             AcceptsArrowType(delta.children.at(0), arrow.children.at(0).type);
    case TypeId::kMap: {
      if (arrow.id != TypeId::kMap) return false;
      const auto &entries = arrow.children.at(0).type.children;
      return AcceptsArrowType(delta.children.at(0), entries.at(0).type) &&
             AcceptsArrowType(delta.children.at(1), entries.at(1).type);
    }
    case TypeId::kStruct:
      if (arrow.id != TypeId::kStruct || arrow.children.size() != delta.fields.size()) {
        return false;
      }
      for (size_t i = 0; i < delta.fields.size(); ++i) {
        if (!table::SameColumnName(delta.fields[i].name, arrow.children[i].name) ||
            !AcceptsArrowType(delta.fields[i].type, arrow.children[i].type)) {
          return false;
        }
      }
      return true;
    default:
      return arrow.id == expected.id;
  }
}

}  // namespace zerobus::arrow
