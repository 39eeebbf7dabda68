// Checks and conversions of single values that every record format shares (proto and JSON, on
// the server and in the client's encoder): what the service refuses in a STRING, DECIMAL,
// BINARY, VARIANT, FLOAT, date, time or small integer column; and the one way a value from
// outside is quoted in a message.
#ifndef ZEROBUS_TABLE_VALUE_CHECKS_H
#define ZEROBUS_TABLE_VALUE_CHECKS_H

#include <cstdint>
#include <string>
#include <string_view>

#include "table/delta_type.h"

namespace zerobus::table {

// At most about `max_bytes` of `text`, for an error message: cut at a character boundary, with
// control characters and bytes that are not UTF-8 shown as '?', and "..." when cut. Every value
// that comes from outside (a record, a key, a request) goes into a message through this, so that
// no message grows with its input.
constexpr size_t kExcerptBytes = 40;
std::string Excerpt(std::string_view text, size_t max_bytes = kExcerptBytes);

// "" when `text` is acceptable for a STRING, VARCHAR(n) or CHAR(n) column: valid UTF-8, and
// for VARCHAR/CHAR at most n characters. Otherwise what is wrong.
std::string CheckText(const DeltaType &type, std::string_view text);

// "" when `text` is a decimal number ("-12.30", "5", ".5") that fits DECIMAL(p, s).
std::string CheckDecimal(const DeltaType &type, std::string_view text);

// "" when `value` fits the integer column: TINYINT -128..127, SMALLINT and INT their ranges,
// DATE days and TIMESTAMP / TIMESTAMP_NTZ microseconds within the years 0001 to 9999 (UTC), the
// calendar that Delta's writers and RFC 3339 text cover.
std::string CheckIntegerRange(const DeltaType &type, int64_t value);

// "" when `value` fits the FLOAT or DOUBLE column: a finite FLOAT value must round to a finite
// float (1e39 does not); NaN and the infinities, given as such, pass.
std::string CheckRealRange(const DeltaType &type, double value);

// `value` as a float, for a value that CheckRealRange accepts for a FLOAT.
float NarrowToFloat(double value);

// "" when `text` is JSON, as a VARIANT value must be, within the limits of ParseJson().
std::string CheckVariant(std::string_view text);

// Standard base64 with padding, as BINARY values travel in JSON.
std::string EncodeBase64(std::string_view bytes);
bool DecodeBase64(std::string_view text, std::string *bytes);

}  // namespace zerobus::table

#endif  // ZEROBUS_TABLE_VALUE_CHECKS_H
