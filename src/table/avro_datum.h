// Where one datum of any Avro writer schema ends. An object container file's block holds its
// datums end to end with nothing between them, and only the schema tells where one stops: this
// walks a datum without making values of it, so that the datums can be sent one by one. It
// checks no more than the walk needs (the server reads each datum against its table); every
// length, count, union branch and enum index is still bounded by the bytes that are there.
#ifndef ZEROBUS_TABLE_AVRO_DATUM_H
#define ZEROBUS_TABLE_AVRO_DATUM_H

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "table/avro_binary.h"

namespace zerobus::table {

class AvroDatumWalker {
 public:
  // Reads the writer schema `schema` (Avro JSON, any schema the Avro specification allows:
  // named types, namespaces, references to earlier names, recursive records). False with why
  // in `*error` for JSON that is not a schema.
  bool Parse(std::string_view schema, std::string *error);

  // Reads one datum off the front of `reader`. False when the bytes left do not begin with a
  // whole datum of the schema, or nest deeper than kMaxDepth. A block count is bounded by the
  // bytes left, as AvroReader::ReadBlockCount() has it, and a block of items that take no bytes
  // (null, or records of such) is passed over without walking its items, so that the walk is
  // never longer than the bytes are.
  bool Skip(AvroReader *reader) const;

  // How deeply values may nest (records, arrays, maps, unions within one another).
  static constexpr int kMaxDepth = 128;

 private:
  enum class Kind {
    kNull,
    kBoolean,
    kInt,
    kLong,
    kFloat,
    kDouble,
    kBytes,
    kString,
    kFixed,
    kEnum,
    kArray,
    kMap,
    kUnion,
    kRecord
  };
  struct Node {
    Kind kind = Kind::kNull;
    size_t size = 0;               // kFixed: its bytes; kEnum: its symbols
    std::vector<size_t> children;  // kRecord: fields; kUnion: branches; kArray/kMap: items
    bool takes_no_bytes = false;   // null, fixed(0), or a record of such
  };

  class Parser;
  bool SkipNode(size_t node, AvroReader *reader, int depth) const;

  std::vector<Node> nodes_;
  size_t root_ = 0;
};

}  // namespace zerobus::table

#endif  // ZEROBUS_TABLE_AVRO_DATUM_H
