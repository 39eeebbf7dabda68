// Gathering rows of an array into a new one: how dictionary-encoded columns are expanded into
// plain arrays of their value type.
#ifndef ZEROBUS_ARROW_TAKE_H
#define ZEROBUS_ARROW_TAKE_H

#include <cstdint>
#include <vector>

#include "arrow/model.h"

namespace zerobus::arrow {

// The slots `rows` of `values` (an array of `type`, whose slot i is at values.offset + i; a row
// of -1 is null), as an array of storage of its own with offset 0. `rows` must lie within
// values.length; `values`' offsets must have been checked.
ArrayData Take(const DataType &type, const ArrayData &values, const std::vector<int64_t> &rows);

// Dictionary index `slot` of `indices` (`width` bytes each, little-endian, signed or not), or -1
// when it cannot index anything (negative, or beyond int64_t).
int64_t ReadDictionaryIndex(const uint8_t *indices, int64_t slot, int width, bool is_signed);

// The bytes Take(type, values, rows) allocates for an array of a type that is not nested: what
// expanding a dictionary costs, known before it is spent.
int64_t TakenBytes(const DataType &type, const ArrayData &values, const std::vector<int64_t> &rows);

// A buffer that owns `bytes`.
Buffer OwnedBuffer(std::vector<uint8_t> bytes);

}  // namespace zerobus::arrow

#endif  // ZEROBUS_ARROW_TAKE_H
