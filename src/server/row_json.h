// Column values inside the JSON text that stores a nested column (ARRAY, MAP, STRUCT).
#ifndef ZEROBUS_SERVER_ROW_JSON_H
#define ZEROBUS_SERVER_ROW_JSON_H

#include <nlohmann/json.hpp>

#include "server/row.h"

namespace zerobus::server {

// A scalar as it appears inside the JSON text of a nested column: numbers stay numbers, BINARY
// becomes base64 text.
nlohmann::json NestedJson(const SqlValue &value);

}  // namespace zerobus::server

#endif  // ZEROBUS_SERVER_ROW_JSON_H
