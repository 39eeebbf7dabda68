// One Arrow Flight DoPut call, as Zerobus's Arrow ingestion uses it (reference/official-3x.md
// §2): the table named by the x-databricks-zerobus-table-name header, the IPC schema in the
// first FlightData, then record batches each with app_metadata {"offset_id": N}, acknowledged by
// PutResults whose app_metadata counts the rows ({"ack_up_to_offset": N, "ack_up_to_records":
// R}), after the ready signal (offset -1, 0 rows). The rest of the call's life (acks shaped by
// faults, limits, close signals, statistics) is IngestStreamCall's, as for an EphemeralStream.
// Arrow streams need a declared table (FAILED_PRECONDITION otherwise): a batch is stored as rows
// of its columns. The in-memory store of a server without a data directory keeps records as
// they arrived and counts none for an Arrow batch; `zerobus serve` always has a data directory.
#ifndef ZEROBUS_SERVER_FLIGHT_PUT_H
#define ZEROBUS_SERVER_FLIGHT_PUT_H

#include <string>
#include <vector>

#include "arrow/model.h"
#include "server/arrow_rows.h"
#include "server/flight_data_view.h"
#include "server/ingest_stream.h"

namespace zerobus::server {

// The header that names the table of a DoPut call.
inline constexpr char kTableNameHeader[] = "x-databricks-zerobus-table-name";

class FlightPutCall : public IngestStreamCall {
 public:
  // As IngestStreamCall::Start, for a DoPut call whose table header held `table_name`
  // (empty: none, refused with INVALID_ARGUMENT).
  static grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> *Start(
      const StreamEnv &env, std::string authorization, std::string user_agent,
      std::string table_name);

 private:
  FlightPutCall(const StreamEnv &env, std::string authorization, std::string user_agent,
                std::string table_name)
      : IngestStreamCall(env, StreamRpc::kEphemeral, std::move(authorization),
                         std::move(user_agent)),
        table_name_(std::move(table_name)) {}

  // The schema frame: the token and the table, then the schema against the table's columns.
  grpc::Status HandleFirst() override;
  // A record batch frame: its offset_id, its rows checked and stored.
  grpc::Status HandleIngest() override;
  // response_ as a PutResult: the ready signal, an ack, or a close signal (which repeats the
  // latest ack).
  void SerializeResponse() override;

  const std::string table_name_;
  // Reader side only: the frame just read, its body's pieces as the IPC decoder takes them.
  FlightDataView frame_;
  std::vector<arrow::Buffer> body_;
  arrow::Schema schema_arrow_;
  ArrowColumnPlan plan_;
  // Writer side only: the latest ack written.
  int64_t acked_offset_ = -1;
  int64_t acked_records_ = 0;
};

}  // namespace zerobus::server

#endif  // ZEROBUS_SERVER_FLIGHT_PUT_H
