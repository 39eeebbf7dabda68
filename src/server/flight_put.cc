#include "server/flight_put.h"

#include <limits>
#include <utility>

#include <grpcpp/impl/codegen/proto_utils.h>
#include <nlohmann/json.hpp>

#include "arrow/ipc_reader.h"
#include "arrow_flight.pb.h"

namespace zerobus::server {
namespace {

using ::arrow::flight::protocol::FlightData;
using ::arrow::flight::protocol::PutResult;

grpc::Status Invalid(std::string message) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, std::move(message));
}

// The frame just read, parsed, within the service's message limit.
grpc::Status ParseFrame(std::string_view bytes, size_t max_bytes, FlightData *frame) {
  if (bytes.size() > max_bytes) {
    return Invalid("the FlightData's " + std::to_string(bytes.size()) +
                   " bytes exceed the limit of " + std::to_string(max_bytes) + " bytes");
  }
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max()) ||
      !frame->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return Invalid("the message is not a valid FlightData");
  }
  return grpc::Status::OK;
}

const uint8_t *Data(const std::string &bytes) {
  return reinterpret_cast<const uint8_t *>(bytes.data());
}

}  // namespace

grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> *FlightPutCall::Start(
    const StreamEnv &env, std::string authorization, std::string user_agent,
    std::string table_name) {
  return Begin(std::shared_ptr<IngestStreamCall>(new FlightPutCall(
      env, std::move(authorization), std::move(user_agent), std::move(table_name))));
}

grpc::Status FlightPutCall::HandleFirst() {
  if (table_name_.empty()) {
    return Invalid(std::string("the call has no ") + kTableNameHeader + " header");
  }
  if (env_.tokens != nullptr) {
    grpc::Status status = env_.tokens->CheckStream(authorization_, table_name_);
    if (!status.ok()) return status;
  }
  FlightData frame;
  grpc::Status status = ParseFrame(RequestBytes(), env_.max_message_bytes, &frame);
  if (!status.ok()) return status;
  status = FindTable(table_name_);
  if (!status.ok()) return status;
  const std::string table = schema_ != nullptr ? schema_->full_name : table_name_;
  if (schema_ == nullptr) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        "Arrow streams need a declared table, and " + table + " is not one");
  }
  arrow::Status decoded = arrow::DecodeSchema(Data(frame.data_header()), frame.data_header().size(),
                                              arrow::ReadLimits(), &schema_arrow_);
  if (!decoded.ok()) return Invalid("the first FlightData must be a schema: " + decoded.message());
  std::string error = PlanArrowColumns(*schema_, schema_arrow_, &plan_);
  if (!error.empty()) return Invalid("the Arrow schema does not fit " + table + ": " + error);
  Accept("format=arrow");
  return grpc::Status::OK;
}

grpc::Status FlightPutCall::HandleIngest() {
  const std::string_view bytes = RequestBytes();
  FlightData frame;
  grpc::Status status = ParseFrame(bytes, env_.max_message_bytes, &frame);
  if (!status.ok()) return status;
  const nlohmann::json metadata =
      nlohmann::json::parse(frame.app_metadata(), nullptr, /*allow_exceptions=*/false);
  const std::string frame_name = "FlightData " + std::to_string(next_offset_);
  if (!metadata.is_object() || !metadata.contains("offset_id") ||
      !metadata["offset_id"].is_number_integer()) {
    return Invalid(frame_name + ": app_metadata must be JSON {\"offset_id\": N}");
  }
  const auto offset = metadata["offset_id"].get<int64_t>();
  if (offset != next_offset_) {
    return Invalid("non-sequential offset: expected " + std::to_string(next_offset_) + ", got " +
                   std::to_string(offset) + " (error code 4002)");
  }
  arrow::RecordBatch batch;
  // The body is read before this returns: the decoded arrays need no owner beyond the frame.
  arrow::Buffer body{Data(frame.data_body()), frame.data_body().size(), nullptr};
  arrow::Status decoded =
      arrow::DecodeRecordBatch(schema_arrow_, Data(frame.data_header()), frame.data_header().size(),
                               body, arrow::ReadLimits(), &batch);
  const std::string where = "offset_id " + std::to_string(offset) + ": ";
  if (!decoded.ok()) return Invalid(where + decoded.message());
  WriteBatch rows;
  // A null sink stores nothing, so its values are not turned into rows (what a stored batch
  // costs this server most): the batch is decoded, its structure checked, and acknowledged, as
  // records of a table without a schema are acknowledged undecoded. bench/run's Arrow rows then
  // measure the clients rather than this conversion.
  if (env_.store != nullptr) {
    std::string error = ArrowBatchRows(*schema_, schema_arrow_, plan_, batch, &rows.rows);
    if (!error.empty()) return Invalid(where + error);
  }
  return AcceptRecords(batch.length, bytes.size(), std::move(rows));
}

void FlightPutCall::SerializeResponse() {
  nlohmann::json metadata;
  if (response_.has_create_stream_response()) {
    metadata = {{"ack_up_to_offset", -1}, {"ack_up_to_records", 0}};
  } else if (response_.has_ingest_record_response()) {
    acked_offset_ = response_.ingest_record_response().durability_ack_up_to_offset();
    acked_records_ = response_records_;
    metadata = {{"ack_up_to_offset", acked_offset_}, {"ack_up_to_records", acked_records_}};
  } else if (response_.has_close_stream_signal()) {
    const auto &duration = response_.close_stream_signal().duration();
    metadata = {
        {"ack_up_to_offset", acked_offset_},
        {"ack_up_to_records", acked_records_},
        {"close_stream_duration_ms", duration.seconds() * 1000 + duration.nanos() / 1000000}};
  }
  PutResult result;
  result.set_app_metadata(metadata.dump());
  // gRPC's serializer writes larger messages only into an empty buffer; the last one's bytes
  // are done with (write_in_flight_ is off).
  response_bytes_.Clear();
  bool own_buffer = false;
  grpc::SerializationTraits<PutResult>::Serialize(result, &response_bytes_, &own_buffer);
}

}  // namespace zerobus::server
