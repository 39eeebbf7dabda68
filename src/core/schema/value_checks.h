// Checks and conversions of single values that every record format shares (proto and JSON, on
// the server and in the client's encoder): what the service refuses in a STRING, DECIMAL,
// BINARY, VARIANT or small integer column.
#ifndef ZEROBUS_CORE_SCHEMA_VALUE_CHECKS_H
#define ZEROBUS_CORE_SCHEMA_VALUE_CHECKS_H

#include <cstdint>
#include <string>
#include <string_view>

#include "core/schema/delta_type.h"

namespace zerobus::schema {

// "" when `text` is acceptable for a STRING, VARCHAR(n) or CHAR(n) column: valid UTF-8, and
// for VARCHAR/CHAR at most n characters. Otherwise what is wrong.
std::string CheckText(const DeltaType &type, std::string_view text);

// "" when `text` is a decimal number ("-12.30", "5", ".5") that fits DECIMAL(p, s).
std::string CheckDecimal(const DeltaType &type, std::string_view text);

// "" when `value` fits the integer column (TINYINT -128..127, SMALLINT, INT, DATE as int32).
std::string CheckIntegerRange(const DeltaType &type, int64_t value);

// "" when `text` is JSON, as a VARIANT value must be.
std::string CheckVariant(std::string_view text);

// Standard base64 with padding, as BINARY values travel in JSON.
std::string EncodeBase64(std::string_view bytes);
bool DecodeBase64(std::string_view text, std::string *bytes);

}  // namespace zerobus::schema

#endif  // ZEROBUS_CORE_SCHEMA_VALUE_CHECKS_H
