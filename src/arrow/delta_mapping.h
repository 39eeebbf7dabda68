// The Arrow type of each Delta column type (docs/SCHEMAS.md, "Delta → Arrow"): what the server
// checks an Arrow stream's schema against, and what a client builds a table's Arrow schema from.
#ifndef ZEROBUS_ARROW_DELTA_MAPPING_H
#define ZEROBUS_ARROW_DELTA_MAPPING_H

#include "arrow/model.h"
#include "arrow/status.h"
#include "table/delta_type.h"

namespace zerobus::arrow {

// The canonical Arrow type of a column of `delta` type: utf8 for STRING, VARCHAR and CHAR,
// binary for BINARY, int8..int64, float, double, decimal128(p, s), date32, timestamp[us, tz=UTC]
// for TIMESTAMP, timestamp[us] for TIMESTAMP_NTZ, list<element>, map<key, value> (keys not
// nullable), struct<fields>. VARIANT has no Arrow mapping yet: refused, naming `column`.
Status ExpectedArrowType(const table::DeltaType &delta, const std::string &column, DataType *out);

// Whether an Arrow column of type `arrow` may feed a Delta column of type `delta`: the canonical
// type, or large_utf8 / large_binary in place of utf8 / binary; any time zone for TIMESTAMP (an
// instant is the same in every zone) and none for TIMESTAMP_NTZ; struct fields in order, named
// as the Delta fields (case-insensitively); the names of list items and map entries are free.
bool AcceptsArrowType(const table::DeltaType &delta, const DataType &arrow);

}  // namespace zerobus::arrow

#endif  // ZEROBUS_ARROW_DELTA_MAPPING_H
