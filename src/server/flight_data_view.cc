#include "server/flight_data_view.h"

#include <cstdint>
#include <limits>

#include "server/piece_reader.h"

namespace zerobus::server {
namespace {

// Protobuf's wire types.
constexpr uint64_t kVarint = 0;
constexpr uint64_t kFixed64 = 1;
constexpr uint64_t kDelimited = 2;
constexpr uint64_t kStartGroup = 3;
constexpr uint64_t kEndGroup = 4;
constexpr uint64_t kFixed32 = 5;

// FlightData's fields that the service reads (proto/arrow_flight.proto).
constexpr uint64_t kDataHeader = 2;
constexpr uint64_t kAppMetadata = 3;
constexpr uint64_t kDataBody = 1000;

const char *FieldName(uint64_t field) {
  switch (field) {
    case kDataHeader:
      return "data_header";
    case kAppMetadata:
      return "app_metadata";
    default:
      return "data_body";
  }
}

std::string Malformed(const std::string &what, size_t position) {
  return "the message is not a valid FlightData: " + what + " at byte " + std::to_string(position);
}

}  // namespace

std::string ScanFlightData(const std::vector<std::string_view> &pieces, FlightDataView *view) {
  view->data_header = {};
  view->app_metadata = {};
  view->data_body.clear();
  view->data_body_size = 0;
  bool seen_header = false;
  bool seen_metadata = false;
  bool seen_body = false;
  PieceReader reader(pieces);
  while (reader.remaining() > 0) {
    const size_t field_start = reader.position();
    uint64_t tag = 0;
    if (const char *error = reader.Varint(5, &tag)) return Malformed(error, field_start);
    const uint64_t field = tag >> 3;
    const uint64_t wire_type = tag & 7;
    if (tag > std::numeric_limits<uint32_t>::max() || field == 0) {
      return Malformed("a tag of field number " + std::to_string(field), field_start);
    }
    bool *seen = field == kDataHeader    ? &seen_header
                 : field == kAppMetadata ? &seen_metadata
                 : field == kDataBody    ? &seen_body
                                         : nullptr;
    if (seen != nullptr) {
      if (wire_type != kDelimited) {
        return Malformed(std::string(FieldName(field)) + " (field " + std::to_string(field) +
                             ") with wire type " + std::to_string(wire_type) +
                             ", not length-delimited (2),",
                         field_start);
      }
      if (*seen) {
        return Malformed(std::string(FieldName(field)) + " a second time", field_start);
      }
      *seen = true;
    }
    switch (wire_type) {
      case kVarint: {
        const size_t value_start = reader.position();
        uint64_t ignored = 0;
        if (const char *error = reader.Varint(10, &ignored)) {
          return Malformed(error, value_start);
        }
        break;
      }
      case kFixed64:
      case kFixed32: {
        const size_t width = wire_type == kFixed64 ? 8 : 4;
        if (reader.remaining() < width) {
          return Malformed("a fixed-width field cut off by the end of the message", field_start);
        }
        reader.Skip(width);
        break;
      }
      case kDelimited: {
        const size_t length_start = reader.position();
        uint64_t length = 0;
        if (const char *error = reader.Varint(10, &length)) {
          return Malformed(error, length_start);
        }
        // Protobuf refuses lengths beyond 2^31 - 1.
        if (length > static_cast<uint64_t>(std::numeric_limits<int32_t>::max()) ||
            length > reader.remaining()) {
          return Malformed("field " + std::to_string(field) + " of " + std::to_string(length) +
                               " bytes where " + std::to_string(reader.remaining()) + " remain",
                           field_start);
        }
        const auto size = static_cast<size_t>(length);
        if (field == kDataHeader) {
          view->data_header = reader.Contiguous(size, &view->header_copy);
        } else if (field == kAppMetadata) {
          view->app_metadata = reader.Contiguous(size, &view->metadata_copy);
        } else if (field == kDataBody) {
          reader.Views(size, &view->data_body);
          view->data_body_size = size;
        } else {
          reader.Skip(size);
        }
        break;
      }
      case kStartGroup:
      case kEndGroup:
        return Malformed("a group (wire type " + std::to_string(wire_type) + ")", field_start);
      default:
        return Malformed("wire type " + std::to_string(wire_type), field_start);
    }
  }
  return std::string();
}

}  // namespace zerobus::server
