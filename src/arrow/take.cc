#include "arrow/take.h"

#include <cstring>
#include <limits>

#include "arrow/bits.h"

namespace zerobus::arrow {
namespace {

template <typename Offset>
const Offset *Offsets(const ArrayData &array) {
  return reinterpret_cast<const Offset *>(array.buffers[1].data) + array.offset;
}

template <typename Offset>
void TakeBytes(const ArrayData &values, const std::vector<int64_t> &rows,
               const std::vector<bool> &valid, ArrayData *out) {
  const Offset *offsets = Offsets<Offset>(values);
  std::vector<uint8_t> out_offsets((rows.size() + 1) * sizeof(Offset));
  std::vector<uint8_t> data;
  Offset end = 0;
  std::memcpy(out_offsets.data(), &end, sizeof end);
  for (size_t i = 0; i < rows.size(); ++i) {
    if (valid[i]) {
      const uint8_t *start = values.buffers[2].data + offsets[rows[i]];
      data.insert(data.end(), start, start + (offsets[rows[i] + 1] - offsets[rows[i]]));
      end = static_cast<Offset>(data.size());
    }
    std::memcpy(out_offsets.data() + (i + 1) * sizeof(Offset), &end, sizeof end);
  }
  out->buffers.push_back(OwnedBuffer(std::move(out_offsets)));
  out->buffers.push_back(OwnedBuffer(std::move(data)));
}

// Lists and maps: the new offsets, and the child's rows that the taken lists hold.
void TakeLists(const DataType &type, const ArrayData &values, const std::vector<int64_t> &rows,
               const std::vector<bool> &valid, ArrayData *out) {
  const int32_t *offsets = Offsets<int32_t>(values);
  std::vector<uint8_t> out_offsets((rows.size() + 1) * sizeof(int32_t));
  std::vector<int64_t> child_rows;
  int32_t end = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (valid[i]) {
      for (int32_t j = offsets[rows[i]]; j < offsets[rows[i] + 1]; ++j) child_rows.push_back(j);
      end = static_cast<int32_t>(child_rows.size());
    }
    std::memcpy(out_offsets.data() + (i + 1) * sizeof end, &end, sizeof end);
  }
  out->buffers.push_back(OwnedBuffer(std::move(out_offsets)));
  out->children.push_back(Take(type.children[0].type, values.children[0], child_rows));
}

}  // namespace

int64_t ReadDictionaryIndex(const uint8_t *indices, int64_t slot, int width, bool is_signed) {
  uint64_t raw = 0;
  std::memcpy(&raw, indices + slot * width, static_cast<size_t>(width));  // little-endian
  if (width < 8 && is_signed && (raw >> (8 * width - 1)) & 1) return -1;
  return raw > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())
             ? -1
             : static_cast<int64_t>(raw);
}

int64_t TakenBytes(const DataType &type, const ArrayData &values,
                   const std::vector<int64_t> &rows) {
  const int64_t count = static_cast<int64_t>(rows.size());
  int64_t bytes = static_cast<int64_t>(BitmapBytes(count));  // the validity bitmap
  if (int width = FixedWidth(type.id)) return bytes + count * width;
  if (!HasValueData(type.id)) return 2 * bytes;  // booleans
  const bool large = HasOffsets64(type.id);
  bytes += (count + 1) * (large ? 8 : 4);
  for (int64_t row : rows) {
    if (row < 0) continue;
    const int64_t slot = values.offset + row;
    int64_t start, end;
    if (large) {
      const auto *offsets = reinterpret_cast<const int64_t *>(values.buffers[1].data);
      start = offsets[slot];
      end = offsets[slot + 1];
    } else {
      const auto *offsets = reinterpret_cast<const int32_t *>(values.buffers[1].data);
      start = offsets[slot];
      end = offsets[slot + 1];
    }
    bytes += end - start;
  }
  return bytes;
}

Buffer OwnedBuffer(std::vector<uint8_t> bytes) {
  auto owner = std::make_shared<std::vector<uint8_t>>(std::move(bytes));
  return Buffer{owner->data(), owner->size(), owner};
}

ArrayData Take(const DataType &type, const ArrayData &values, const std::vector<int64_t> &rows) {
  ArrayData out;
  out.length = static_cast<int64_t>(rows.size());
  const uint8_t *validity = values.buffers[0].data;
  std::vector<bool> valid(rows.size());
  std::vector<uint8_t> bitmap(BitmapBytes(out.length));
  for (size_t i = 0; i < rows.size(); ++i) {
    valid[i] = rows[i] >= 0 && (validity == nullptr || GetBit(validity, values.offset + rows[i]));
    if (valid[i]) {
      SetBit(bitmap.data(), static_cast<int64_t>(i));
    } else {
      ++out.null_count;
    }
  }
  out.buffers.push_back(out.null_count ? OwnedBuffer(std::move(bitmap)) : Buffer{});
  if (int width = FixedWidth(type.id)) {
    std::vector<uint8_t> data(rows.size() * width);
    for (size_t i = 0; i < rows.size(); ++i) {
      if (valid[i]) {
        std::memcpy(&data[i * width], values.buffers[1].data + (values.offset + rows[i]) * width,
                    width);
      }
    }
    out.buffers.push_back(OwnedBuffer(std::move(data)));
  } else if (type.id == TypeId::kBoolean) {
    std::vector<uint8_t> data(BitmapBytes(out.length));
    for (size_t i = 0; i < rows.size(); ++i) {
      if (valid[i] && GetBit(values.buffers[1].data, values.offset + rows[i])) {
        SetBit(data.data(), static_cast<int64_t>(i));
      }
    }
    out.buffers.push_back(OwnedBuffer(std::move(data)));
  } else if (HasOffsets32(type.id) && HasValueData(type.id)) {
    TakeBytes<int32_t>(values, rows, valid, &out);
  } else if (HasOffsets64(type.id)) {
    TakeBytes<int64_t>(values, rows, valid, &out);
  } else if (type.id == TypeId::kList || type.id == TypeId::kMap) {
    TakeLists(type, values, rows, valid, &out);
  } else {  // struct: each field's slots are the struct's, shifted by the struct's offset
    std::vector<int64_t> child_rows(rows.size());
    for (size_t i = 0; i < rows.size(); ++i)
      child_rows[i] = valid[i] ? values.offset + rows[i] : -1;
    for (size_t c = 0; c < type.children.size(); ++c) {
      out.children.push_back(Take(type.children[c].type, values.children[c], child_rows));
    }
  }
  return out;
}

}  // namespace zerobus::arrow
