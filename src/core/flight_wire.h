// The bytes of Arrow Flight's DoPut as Zerobus's Arrow ingestion uses it
// (reference/official-3x.md §2): FlightData frames built by hand around IPC messages, the body
// as slices of the batch's own buffers, and PutResults read into wire::Response, as the stream
// reads EphemeralStream responses. No generated code, for the reason wire.h gives.
#ifndef ZEROBUS_CORE_FLIGHT_WIRE_H
#define ZEROBUS_CORE_FLIGHT_WIRE_H

#include <grpcpp/support/byte_buffer.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "arrow/ipc_writer.h"
#include "core/connection.h"
#include "core/status.h"
#include "core/wire.h"

namespace zerobus::flight {

// Arrow Flight's DoPut: the schema's FlightData first, record batches after it, PutResults back.
extern const CallKind kDoPutCall;

// The most bytes a FlightData adds around its IPC message's metadata and body: the fields' tags
// and lengths and an app_metadata of {"offset_id": N}.
inline constexpr size_t kMaxFrameEnvelopeBytes = 96;

// The FlightData bytes of `message` (a frame's size: FrameBytes()).
size_t FrameBytes(const arrow::EncodedMessage &message);

// The schema's FlightData, the first request of each call: its IPC message, no app_metadata.
std::string SchemaFrame(const arrow::EncodedMessage &schema);

// A record batch's FlightData with app_metadata {"offset_id": `offset_id`}. The metadata and the
// framing are copied; the body's buffers go to gRPC as slices of their own, not copied, each
// keeping its owner alive until gRPC is done with it.
grpc::ByteBuffer BatchFrame(const arrow::EncodedMessage &batch, int64_t offset_id);

// Decodes a PutResult: the ready signal ({"ack_up_to_offset": -1, ...}) as kCreated, an ack as
// kAck whose ack_offset is ack_up_to_records (the rows durable on this call), one that carries
// close_stream_duration_ms as kCloseSignal with that ack as well. ZB_ERR_PROTOCOL when it does
// not parse.
Status DecodePutResult(std::string_view bytes, wire::Response *out);

}  // namespace zerobus::flight

#endif  // ZEROBUS_CORE_FLIGHT_WIRE_H
