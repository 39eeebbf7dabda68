#include "bench/arrow_batch.h"

#include <cstring>
#include <memory>

namespace zerobus::bench {
namespace {

constexpr int kColumns = 10;
constexpr const char *kFormats[kColumns] = {"l", "l", "l", "l", "g", "g", "g", "u", "u", "tsu:UTC"};
// 2026-01-01T00:00:00Z in microseconds since the epoch.
constexpr int64_t kFirstTimestampUs = 1767225600000000LL;

void ReleaseNothing(ArrowSchema *schema) {
  schema->release = nullptr;
}

// What one Array() allocates: the children and the pointers to them, freed by the parent's
// release. A child's release only marks it released: its buffers are the batch's.
struct ArrayStructs {
  ArrowArray children[kColumns];
  ArrowArray *child_pointers[kColumns];
  const void *parent_buffers[1] = {nullptr};
};

void ReleaseChild(ArrowArray *array) {
  array->release = nullptr;
}

void ReleaseParent(ArrowArray *array) {
  auto *structs = static_cast<ArrayStructs *>(array->private_data);
  for (ArrowArray &child : structs->children) {
    if (child.release != nullptr) child.release(&child);
  }
  delete structs;
  array->release = nullptr;
}

template <typename T>
void Put(std::vector<uint8_t> *out, int64_t row, T value) {
  std::memcpy(out->data() + row * static_cast<int64_t>(sizeof(T)), &value, sizeof(T));
}

}  // namespace

ArrowBenchBatch::ArrowBenchBatch(int64_t rows) : rows_(rows) {
  columns_.resize(kColumns);
  for (int c = 0; c < kColumns; ++c) {
    Column &column = columns_[c];
    column.name = "c" + std::to_string(c);
    column.format = kFormats[c];
    if (column.format == "u") {
      column.values.resize(static_cast<size_t>(rows + 1) * sizeof(int32_t));
      Put<int32_t>(&column.values, 0, 0);
      for (int64_t row = 0; row < rows; ++row) {
        const std::string value = "value-" + std::to_string((row * 7919 + c) % 100000);
        column.data.insert(column.data.end(), value.begin(), value.end());
        Put<int32_t>(&column.values, row + 1, static_cast<int32_t>(column.data.size()));
      }
    } else {
      column.values.resize(static_cast<size_t>(rows) * 8);
      for (int64_t row = 0; row < rows; ++row) {
        if (column.format == "l") {
          Put<int64_t>(&column.values, row, row * 10 + c);
        } else if (column.format == "g") {
          Put<double>(&column.values, row, static_cast<double>(row * 10 + c) * 0.5);
        } else {
          Put<int64_t>(&column.values, row, kFirstTimestampUs + row * 1000);
        }
      }
    }
    column.buffers = {nullptr, column.values.data(), column.data.data()};
  }
  for (Column &column : columns_) {
    column.schema = ArrowSchema{column.format.c_str(),
                                column.name.c_str(),
                                nullptr,
                                ARROW_FLAG_NULLABLE,
                                0,
                                nullptr,
                                nullptr,
                                ReleaseNothing,
                                nullptr};
    schema_children_.push_back(&column.schema);
  }
  schema_ = ArrowSchema{
      "+s", "", nullptr, 0, kColumns, schema_children_.data(), nullptr, ReleaseNothing, nullptr};
}

int64_t ArrowBenchBatch::buffer_bytes() const {
  int64_t bytes = 0;
  for (const Column &column : columns_) {
    bytes += static_cast<int64_t>(column.values.size() + column.data.size());
  }
  return bytes;
}

ArrowArray ArrowBenchBatch::Array() const {
  auto structs = std::make_unique<ArrayStructs>();
  for (int c = 0; c < kColumns; ++c) {
    const Column &column = columns_[c];
    const int64_t n_buffers = column.format == "u" ? 3 : 2;
    structs->children[c] =
        ArrowArray{rows_,     0,       0,
                   n_buffers, 0,       const_cast<const void **>(column.buffers.data()),
                   nullptr,   nullptr, ReleaseChild,
                   nullptr};
    structs->child_pointers[c] = &structs->children[c];
  }
  ArrowArray parent{
      rows_, 0, 0, 1, kColumns, structs->parent_buffers, nullptr, nullptr, ReleaseParent, nullptr};
  parent.children = structs->child_pointers;
  parent.private_data = structs.release();
  return parent;
}

}  // namespace zerobus::bench
