#include "arrow/model.h"

#include "table/value_checks.h"

namespace zerobus::arrow {

int BufferCount(TypeId id) {
  switch (id) {
    case TypeId::kStruct:
      return 1;
    case TypeId::kUtf8:
    case TypeId::kLargeUtf8:
    case TypeId::kBinary:
    case TypeId::kLargeBinary:
      return 3;
    default:
      return 2;
  }
}

int FixedWidth(TypeId id) {
  switch (id) {
    case TypeId::kInt8:
      return 1;
    case TypeId::kInt16:
      return 2;
    case TypeId::kInt32:
    case TypeId::kFloat32:
    case TypeId::kDate32:
      return 4;
    case TypeId::kInt64:
    case TypeId::kFloat64:
    case TypeId::kTimestampMicros:
      return 8;
    case TypeId::kDecimal128:
      return 16;
    default:
      return 0;
  }
}

bool HasOffsets32(TypeId id) {
  return id == TypeId::kUtf8 || id == TypeId::kBinary || id == TypeId::kList || id == TypeId::kMap;
}

bool HasOffsets64(TypeId id) {
  return id == TypeId::kLargeUtf8 || id == TypeId::kLargeBinary;
}

bool HasValueData(TypeId id) {
  return id == TypeId::kUtf8 || id == TypeId::kLargeUtf8 || id == TypeId::kBinary ||
         id == TypeId::kLargeBinary;
}

namespace {

// Longer than any excerpt a message shows, short enough that building paths costs nothing.
constexpr size_t kPathBytes = 256;
constexpr size_t kLabelBytes = 120;

}  // namespace

std::string ColumnLabel(const std::string &path) {
  return "column '" + table::Excerpt(path, kLabelBytes) + "'";
}

std::string ChildPath(const std::string &parent, const std::string &name) {
  std::string path = parent.empty() ? name : parent + "." + name;
  if (path.size() > kPathBytes) path.resize(kPathBytes);
  return path;
}

RecordBatch Slice(const RecordBatch &batch, int64_t start, int64_t length) {
  RecordBatch slice;
  slice.length = length;
  slice.columns = batch.columns;  // the buffers are shared, not copied
  for (ArrayData &column : slice.columns) {
    column.offset += start;
    column.length = length;
    column.null_count = -1;
  }
  return slice;
}

std::string TypeToString(const DataType &type) {
  switch (type.id) {
    case TypeId::kBoolean:
      return "bool";
    case TypeId::kInt8:
      return "int8";
    case TypeId::kInt16:
      return "int16";
    case TypeId::kInt32:
      return "int32";
    case TypeId::kInt64:
      return "int64";
    case TypeId::kFloat32:
      return "float";
    case TypeId::kFloat64:
      return "double";
    case TypeId::kUtf8:
      return "string";
    case TypeId::kLargeUtf8:
      return "large_string";
    case TypeId::kBinary:
      return "binary";
    case TypeId::kLargeBinary:
      return "large_binary";
    case TypeId::kDate32:
      return "date32[day]";
    case TypeId::kTimestampMicros:
      return type.timezone.empty() ? "timestamp[us]" : "timestamp[us, tz=" + type.timezone + "]";
    case TypeId::kDecimal128:
      return "decimal128(" + std::to_string(type.precision) + ", " + std::to_string(type.scale) +
             ")";
    case TypeId::kList:
      return "list<" + type.children.at(0).name + ": " + TypeToString(type.children.at(0).type) +
             ">";
    case TypeId::kStruct: {
      std::string text = "struct<";
      for (size_t i = 0; i < type.children.size(); ++i) {
        text +=
            (i ? ", " : "") + type.children[i].name + ": " + TypeToString(type.children[i].type);
      }
      return text + ">";
    }
    case TypeId::kMap: {
      const auto &entries = type.children.at(0).type.children;
      return "map<" + TypeToString(entries.at(0).type) + ", " + TypeToString(entries.at(1).type) +
             ">";
    }
  }
  return "unknown";
}

bool operator==(const DataType &a, const DataType &b) {
  return a.id == b.id && a.timezone == b.timezone && a.precision == b.precision &&
         a.scale == b.scale && a.keys_sorted == b.keys_sorted && a.children == b.children;
}

bool operator==(const Field &a, const Field &b) {
  return a.name == b.name && a.nullable == b.nullable && a.type == b.type;
}

}  // namespace zerobus::arrow
