// Issue 22's benchmark batch, shared by `zerobus bench --arrow` (the library),
// bench/raw_flight_bench (the raw Flight ceiling) and bench/arrow_codec_bench, so that they send
// the same bytes: record batches of a 10-column table (4 int64, 3 double, 2 utf8, a timestamp[us,
// UTC]), every column nullable and without nulls. bench/official-rs builds the same values in Rust
// (its arrow_batch()); the two must change together.
#ifndef ZEROBUS_BENCH_ARROW_BATCH_H
#define ZEROBUS_BENCH_ARROW_BATCH_H

#include <zerobus/arrow_c_data.h>

#include <cstdint>
#include <string>
#include <vector>

namespace zerobus::bench {

// The table the Arrow benchmarks write to, and its declaration for `zerobus serve --table`.
inline constexpr char kArrowBenchTable[] = "bench.default.arrow_events";
inline constexpr char kArrowBenchTableDdl[] =
    "bench.default.arrow_events (c0 BIGINT, c1 BIGINT, c2 BIGINT, c3 BIGINT, c4 DOUBLE, "
    "c5 DOUBLE, c6 DOUBLE, c7 STRING, c8 STRING, c9 TIMESTAMP)";
// Rows per batch unless told otherwise.
inline constexpr long kArrowBenchRows = 1000;

// One batch's buffers, built once; Array() hands out C Data arrays over them, any number at
// once, from any thread. Row r of column c holds: c0..c3 r * 10 + c; c4..c6 (r * 10 + c) * 0.5;
// c7, c8 "value-" followed by (r * 7919 + c) % 100000 in decimal; c9 2026-01-01T00:00:00Z
// plus r milliseconds, in microseconds.
class ArrowBenchBatch {
 public:
  explicit ArrowBenchBatch(int64_t rows);
  ArrowBenchBatch(const ArrowBenchBatch &) = delete;
  ArrowBenchBatch &operator=(const ArrowBenchBatch &) = delete;

  int64_t rows() const { return rows_; }
  // The bytes of every column's buffers: what a batch carries, without the IPC framing.
  int64_t buffer_bytes() const;
  // The schema, a struct of the columns; its release does nothing (the object owns it).
  const ArrowSchema &schema() const { return schema_; }
  // A new struct array over the batch's buffers, to be moved into a consumer. Its release
  // frees the structs it allocated; the buffers stay this object's, which must outlive it.
  ArrowArray Array() const;

 private:
  struct Column {
    std::string name;
    std::string format;
    std::vector<uint8_t> values;  // fixed-width values, or a utf8 column's int32 offsets
    std::vector<uint8_t> data;    // a utf8 column's characters
    std::vector<const void *> buffers;
    ArrowSchema schema;
  };

  int64_t rows_;
  std::vector<Column> columns_;
  std::vector<ArrowSchema *> schema_children_;
  ArrowSchema schema_;
};

}  // namespace zerobus::bench

#endif  // ZEROBUS_BENCH_ARROW_BATCH_H
