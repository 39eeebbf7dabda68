#include "server/flight_put.h"

#include <utility>

#include <grpcpp/impl/codegen/proto_utils.h>
#include <nlohmann/json.hpp>

#include "arrow/ipc_reader.h"
#include "arrow_flight.pb.h"

namespace zerobus::server {
namespace {

using ::arrow::flight::protocol::PutResult;

grpc::Status Invalid(std::string message) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, std::move(message));
}

// The frame just read (`pieces`, `*bytes` in all), scanned, within the service's message limit.
grpc::Status ScanFrame(const std::vector<std::string_view> &pieces, size_t max_bytes,
                       FlightDataView *frame, size_t *bytes) {
  *bytes = 0;
  for (std::string_view piece : pieces) *bytes += piece.size();
  if (*bytes > max_bytes) {
    return Invalid("the FlightData's " + std::to_string(*bytes) + " bytes exceed the limit of " +
                   std::to_string(max_bytes) + " bytes");
  }
  std::string error = ScanFlightData(pieces, frame);
  if (!error.empty()) return Invalid(std::move(error));
  return grpc::Status::OK;
}

const uint8_t *Data(std::string_view bytes) {
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
  size_t bytes = 0;
  grpc::Status status = ScanFrame(RequestPieces(), env_.max_message_bytes, &frame_, &bytes);
  if (!status.ok()) return status;
  status = FindTable(table_name_);
  if (!status.ok()) return status;
  const std::string table = schema_ != nullptr ? schema_->full_name : table_name_;
  if (schema_ == nullptr) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        "Arrow streams need a declared table, and " + table + " is not one");
  }
  arrow::Status decoded = arrow::DecodeSchema(Data(frame_.data_header), frame_.data_header.size(),
                                              arrow::ReadLimits(), &schema_arrow_);
  if (!decoded.ok()) return Invalid("the first FlightData must be a schema: " + decoded.message());
  std::string error = PlanArrowColumns(*schema_, schema_arrow_, &plan_);
  if (!error.empty()) return Invalid("the Arrow schema does not fit " + table + ": " + error);
  Accept("format=arrow");
  return grpc::Status::OK;
}

grpc::Status FlightPutCall::HandleIngest() {
  size_t bytes = 0;
  grpc::Status status = ScanFrame(RequestPieces(), env_.max_message_bytes, &frame_, &bytes);
  if (!status.ok()) return status;
  const nlohmann::json metadata =
      nlohmann::json::parse(frame_.app_metadata.begin(), frame_.app_metadata.end(), nullptr,
                            /*allow_exceptions=*/false);
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
  // The body is read before this returns: the decoded arrays need no owner beyond the frame.
  body_.clear();
  for (std::string_view piece : frame_.data_body) {
    body_.push_back(arrow::Buffer{Data(piece), piece.size(), nullptr});
  }
  const uint8_t *header = Data(frame_.data_header);
  const size_t header_size = frame_.data_header.size();
  const std::string where = "offset_id " + std::to_string(offset) + ": ";
  WriteBatch rows;
  int64_t batch_rows = 0;
  // A null sink stores nothing, so its values are neither turned into rows (what a stored batch
  // costs this server most) nor gathered into arrays: the batch's structure is checked, every
  // check a decode makes, and the batch acknowledged, as records of a table without a schema
  // are acknowledged undecoded. bench/run's Arrow rows then measure the clients rather than
  // this conversion.
  if (env_.store == nullptr) {
    arrow::Status checked = arrow::CheckRecordBatch(schema_arrow_, header, header_size, body_,
                                                    arrow::ReadLimits(), &batch_rows);
    if (!checked.ok()) return Invalid(where + checked.message());
  } else {
    arrow::RecordBatch batch;
    arrow::Status decoded = arrow::DecodeRecordBatch(schema_arrow_, header, header_size, body_,
                                                     arrow::ReadLimits(), &batch);
    if (!decoded.ok()) return Invalid(where + decoded.message());
    std::string error = ArrowBatchRows(*schema_, schema_arrow_, plan_, batch, &rows.rows);
    if (!error.empty()) return Invalid(where + error);
    batch_rows = batch.length;
  }
  return AcceptRecords(batch_rows, bytes, std::move(rows));
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
