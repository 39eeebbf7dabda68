#include "core/flight_wire.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>
#include <grpcpp/support/slice.h>
#include <nlohmann/json.hpp>

#include <memory>
#include <vector>

namespace zerobus::flight {
namespace {

using google::protobuf::internal::WireFormatLite;
using google::protobuf::io::CodedInputStream;
using google::protobuf::io::CodedOutputStream;

// Field numbers of Arrow Flight's FlightData and PutResult (Flight.proto).
constexpr uint32_t kDataHeader = 2;
constexpr uint32_t kAppMetadata = 3;
constexpr uint32_t kDataBody = 1000;
constexpr uint32_t kPutResultAppMetadata = 1;

constexpr uint32_t LengthTag(uint32_t field) {
  return (field << 3) | WireFormatLite::WIRETYPE_LENGTH_DELIMITED;
}

void AppendVarint(std::string *out, uint64_t value) {
  uint8_t buf[wire::kMaxVarintBytes];
  out->append(reinterpret_cast<char *>(buf),
              CodedOutputStream::WriteVarint64ToArray(value, buf) - buf);
}

void AppendField(std::string *out, uint32_t field, std::string_view bytes) {
  AppendVarint(out, LengthTag(field));
  AppendVarint(out, bytes.size());
  out->append(bytes);
}

// Everything of a frame before its body's bytes.
std::string FrameHead(const arrow::EncodedMessage &message, std::string_view app_metadata) {
  std::string head;
  AppendField(&head, kDataHeader,
              std::string_view(reinterpret_cast<const char *>(message.metadata.data),
                               message.metadata.size));
  if (!app_metadata.empty()) AppendField(&head, kAppMetadata, app_metadata);
  AppendVarint(&head, LengthTag(kDataBody));
  AppendVarint(&head, static_cast<uint64_t>(message.body_length));
  return head;
}

void ReleaseOwner(void *owner) {
  delete static_cast<std::shared_ptr<const void> *>(owner);
}

Status Malformed(const std::string &why) {
  return Status(StatusCode::kProtocol, "the server sent a malformed PutResult: " + why, true);
}

}  // namespace

const CallKind kDoPutCall{"/arrow.flight.protocol.FlightService/DoPut", DecodePutResult, false};

size_t FrameBytes(const arrow::EncodedMessage &message) {
  return message.metadata.size + static_cast<size_t>(message.body_length) + kMaxFrameEnvelopeBytes;
}

std::string SchemaFrame(const arrow::EncodedMessage &schema) {
  return FrameHead(schema, "");
}

grpc::ByteBuffer BatchFrame(const arrow::EncodedMessage &batch, int64_t offset_id) {
  const std::string head = FrameHead(batch, "{\"offset_id\":" + std::to_string(offset_id) + "}");
  std::vector<grpc::Slice> slices;
  slices.reserve(batch.body.size() + 1);
  slices.emplace_back(head.data(), head.size());
  for (const arrow::Buffer &buffer : batch.body) {
    if (buffer.size == 0) continue;
    slices.emplace_back(const_cast<uint8_t *>(buffer.data), buffer.size, ReleaseOwner,
                        new std::shared_ptr<const void>(buffer.owner));
  }
  return grpc::ByteBuffer(slices.data(), slices.size());
}

Status DecodePutResult(std::string_view bytes, wire::Response *out) {
  CodedInputStream in(reinterpret_cast<const uint8_t *>(bytes.data()),
                      static_cast<int>(bytes.size()));
  std::string app_metadata;
  while (uint32_t tag = in.ReadTag()) {
    if (tag == LengthTag(kPutResultAppMetadata)) {
      uint32_t len = 0;
      if (!in.ReadVarint32(&len) || !in.ReadString(&app_metadata, static_cast<int>(len))) {
        return Malformed("a truncated app_metadata");
      }
    } else if (!WireFormatLite::SkipField(&in, tag)) {
      return Malformed("not a protobuf message");
    }
  }
  if (!in.ConsumedEntireMessage()) return Malformed("not a protobuf message");
  const nlohmann::json metadata =
      nlohmann::json::parse(app_metadata, nullptr, /*allow_exceptions=*/false);
  if (!metadata.is_object()) return Malformed("its app_metadata is not a JSON object");
  const auto offset = metadata.find("ack_up_to_offset");
  const auto records = metadata.find("ack_up_to_records");
  if (offset == metadata.end() || !offset->is_number_integer() || records == metadata.end() ||
      !records->is_number_unsigned()) {
    return Malformed("its app_metadata lacks ack_up_to_offset or ack_up_to_records");
  }
  const auto rows = records->get<uint64_t>();
  if (rows > static_cast<uint64_t>(INT64_MAX)) return Malformed("ack_up_to_records is too large");
  *out = wire::Response();
  const auto close = metadata.find("close_stream_duration_ms");
  if (close != metadata.end() && !close->is_null()) {
    if (!close->is_number()) return Malformed("close_stream_duration_ms is not a number");
    const double ms = close->get<double>();
    out->kind = wire::Response::Kind::kCloseSignal;
    out->close_after_ms = ms < 0                        ? 0
                          : ms > wire::kMaxCloseAfterMs ? wire::kMaxCloseAfterMs
                                                        : static_cast<int64_t>(ms);
  } else if (offset->get<int64_t>() == -1 && rows == 0) {
    out->kind = wire::Response::Kind::kCreated;
    return Status::Ok();
  } else {
    out->kind = wire::Response::Kind::kAck;
  }
  out->has_ack_offset = true;
  out->ack_offset = static_cast<int64_t>(rows);
  return Status::Ok();
}

}  // namespace zerobus::flight
