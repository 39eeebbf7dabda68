// Checks and conversions of single values that proto and JSON records share: what the service
// refuses in a STRING, DECIMAL, BINARY or small integer column.
#ifndef ZEROBUS_SERVER_VALUE_CHECKS_H
#define ZEROBUS_SERVER_VALUE_CHECKS_H

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/schema/delta_type.h"
#include "server/row.h"

namespace zerobus::server {

// "" when `text` is acceptable for a STRING, VARCHAR(n) or CHAR(n) column: valid UTF-8, and
// for VARCHAR/CHAR at most n characters. Otherwise what is wrong.
std::string CheckText(const schema::DeltaType &type, std::string_view text);

// "" when `text` is a decimal number ("-12.30", "5", ".5") that fits DECIMAL(p, s).
std::string CheckDecimal(const schema::DeltaType &type, std::string_view text);

// "" when `value` fits the integer column (TINYINT -128..127, SMALLINT, INT, DATE as int32).
std::string CheckIntegerRange(const schema::DeltaType &type, int64_t value);

// "" when `text` is JSON, as a VARIANT value must be.
std::string CheckVariant(std::string_view text);

// A scalar as it appears inside the JSON text of a nested column: numbers stay numbers, BINARY
// becomes base64 text.
nlohmann::json NestedJson(const SqlValue &value);

// Standard base64 with padding, as BINARY values travel in JSON.
std::string EncodeBase64(std::string_view bytes);
bool DecodeBase64(std::string_view text, std::string *bytes);

}  // namespace zerobus::server

#endif  // ZEROBUS_SERVER_VALUE_CHECKS_H
