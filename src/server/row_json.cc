#include "server/row_json.h"

#include "table/value_checks.h"

namespace zerobus::server {

nlohmann::json NestedJson(const SqlValue &value) {
  switch (value.kind) {
    case SqlValue::Kind::kInteger:
      return value.integer;
    case SqlValue::Kind::kReal:
      return value.real;
    case SqlValue::Kind::kText:
      return value.bytes;
    case SqlValue::Kind::kBlob:
      return table::EncodeBase64(value.bytes);
    case SqlValue::Kind::kNull:
      break;
  }
  return nullptr;
}

}  // namespace zerobus::server
