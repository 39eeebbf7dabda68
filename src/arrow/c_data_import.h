// Arrow C Data Interface → the model (model.h), without copying: the imported arrays' buffers
// are views into the producer's, kept alive until the last view is gone, and then the producer's
// `release` is called exactly once. Dictionary-encoded columns are expanded into plain arrays
// (that one copies: the expanded values are ours).
#ifndef ZEROBUS_ARROW_C_DATA_IMPORT_H
#define ZEROBUS_ARROW_C_DATA_IMPORT_H

#include <functional>
#include <vector>

#include "arrow/model.h"
#include "arrow/status.h"

struct ArrowSchema;  // zerobus/arrow_c_data.h
struct ArrowArray;
struct ArrowArrayStream;

namespace zerobus::arrow {

// A record batch's schema as given in C Data (a struct, format "+s", of the columns), parsed
// once for the batches that follow it: the model's Schema, and which fields arrive
// dictionary-encoded (and with which index type).
class CDataSchema {
 public:
  // Reads `c_schema` (borrowed: neither moved nor released). Refuses, naming the column (as
  // "outer.inner" for nested fields) and the type, every type model.h does not list, an
  // unsigned integer among them; refuses nesting deeper than kMaxNestingDepth.
  static Status Import(const ArrowSchema &c_schema, CDataSchema *out);
  // `schema` as C Data arrays of it arrive when none of their columns is dictionary-encoded:
  // for a stream whose schema came as IPC bytes.
  static CDataSchema Plain(Schema schema);

  const Schema &schema() const { return schema_; }

  // How one field's arrays arrive: dictionary indices of `index_width` bytes (0: not encoded),
  // and the same for the children of its (value) type.
  struct Encoding {
    int index_width = 0;
    bool index_signed = true;
    std::vector<Encoding> children;
  };
  const std::vector<Encoding> &encodings() const { return encodings_; }

 private:
  Schema schema_;
  std::vector<Encoding> encodings_;
};

// Takes `c_array` (a struct array of `schema`'s columns, as ArrowArray of a record batch) by
// moving it: on return, success or not, `c_array->release` is null and the library owns the
// data; the producer's release runs once, when `out` and every copy of its buffers are gone (at
// once on failure). Refuses arrays whose shape contradicts the schema (buffer or child counts,
// a null buffer where data is needed, negative lengths or offsets, offsets that go backwards).
Status ImportRecordBatch(ArrowArray *c_array, const CDataSchema &schema, RecordBatch *out);

// Takes `c_stream` (moved, as ImportRecordBatch takes an array) and reads it to its end: its
// schema once, then each batch imported and handed to `each` in order. Stops at the first
// failure: the stream's own (get_schema or get_next returned an error; its get_last_error text
// is quoted), an import's, or one `each` returns. The stream is released before returning.
Status ImportStream(ArrowArrayStream *c_stream,
                    const std::function<Status(const CDataSchema &, RecordBatch)> &each);

}  // namespace zerobus::arrow

#endif  // ZEROBUS_ARROW_C_DATA_IMPORT_H
