// Reads an Arrow Flight FlightData (proto/arrow_flight.proto) straight from the pieces it
// arrived in (a gRPC message's slices): data_header, app_metadata and data_body become views of
// those pieces, so that a record batch's body is neither flattened into one string nor copied
// again by a protobuf parse. The body stays in pieces; the IPC decoder takes it so.
#ifndef ZEROBUS_SERVER_FLIGHT_DATA_VIEW_H
#define ZEROBUS_SERVER_FLIGHT_DATA_VIEW_H

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace zerobus::server {

// The fields of one FlightData the DoPut service reads; valid as long as the pieces it was
// scanned from (and the view itself: a small field that straddles two pieces is copied into it).
struct FlightDataView {
  std::string_view data_header;
  std::string_view app_metadata;
  // data_body's bytes, in order, as views of the pieces (no empty ones).
  std::vector<std::string_view> data_body;
  size_t data_body_size = 0;

  // Where a straddling data_header or app_metadata was put together.
  std::string header_copy;
  std::string metadata_copy;
};

// Fills `*view` from `pieces`, which hold one serialized FlightData in order, and returns an
// empty string; or returns what is wrong with the bytes (a sentence naming the field and the
// byte, no longer for longer input), with `*view` unspecified. flight_descriptor and fields
// FlightData does not have are skipped as protobuf skips them. Stricter than protobuf, which no
// client needs: data_header, app_metadata and data_body each at most once, each with the
// length-delimited wire type, and no group wire types. An absent field is an empty view.
// Never reads outside the pieces; `view`'s vectors and strings keep their capacity. Thread-safe
// (no shared state).
std::string ScanFlightData(const std::vector<std::string_view> &pieces, FlightDataView *view);

}  // namespace zerobus::server

#endif  // ZEROBUS_SERVER_FLIGHT_DATA_VIEW_H
