// libFuzzer target: one FlightData of an Arrow Flight DoPut, read as `zerobus serve` reads it:
// scanned in place over the slices it arrived in (server/flight_data_view), its body decoded from
// those pieces by the IPC decoder (src/arrow), or only checked, as with a null sink. The first
// byte cuts the rest into pieces, each in memory of its own. Nothing may crash or read out of
// bounds; what the scanner takes must be what protobuf's parse makes of the same bytes whenever
// that parse takes them too; the body decoded from its pieces must hold what the whole body
// decodes to, and a check must say what a decode says; no refusal may carry a message that grows
// with the input.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "arrow/ipc_reader.h"
#include "arrow/model.h"
#include "arrow_flight.pb.h"
#include "server/flight_data_view.h"

namespace {

namespace za = zerobus::arrow;

// A refusal quotes a column's path, a field's name and a few numbers.
constexpr size_t kMaxMessageBytes = 600;

za::Field MakeField(const char *name, za::TypeId id, bool nullable = true) {
  za::Field field;
  field.name = name;
  field.type.id = id;
  field.nullable = nullable;
  return field;
}

// The table the corpus's batches are of: fixed-width, boolean, text and nested columns.
za::Schema FuzzSchema() {
  za::Schema schema;
  schema.fields.push_back(MakeField("id", za::TypeId::kInt64, false));
  schema.fields.push_back(MakeField("name", za::TypeId::kUtf8));
  za::Field tags = MakeField("tags", za::TypeId::kList);
  tags.type.children.push_back(MakeField("item", za::TypeId::kUtf8));
  schema.fields.push_back(tags);
  schema.fields.push_back(MakeField("score", za::TypeId::kFloat64));
  schema.fields.push_back(MakeField("ok", za::TypeId::kBoolean));
  return schema;
}

bool SameBuffers(const za::ArrayData &a, const za::ArrayData &b) {
  if (a.length != b.length || a.null_count != b.null_count ||
      a.buffers.size() != b.buffers.size() || a.children.size() != b.children.size()) {
    return false;
  }
  for (size_t i = 0; i < a.buffers.size(); ++i) {
    if (a.buffers[i].size != b.buffers[i].size) return false;
    if (a.buffers[i].size > 0 &&
        std::memcmp(a.buffers[i].data, b.buffers[i].data, a.buffers[i].size) != 0) {
      return false;
    }
  }
  for (size_t i = 0; i < a.children.size(); ++i) {
    if (!SameBuffers(a.children[i], b.children[i])) return false;
  }
  return true;
}

const uint8_t *Bytes(std::string_view text) {
  return reinterpret_cast<const uint8_t *>(text.data());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  const std::string message(reinterpret_cast<const char *>(data + 1), size - 1);
  // Each piece in memory of its own, so that reading past one is caught.
  const size_t chunk = 1 + data[0] % 128;
  std::vector<std::string> owned;
  for (size_t at = 0; at < message.size(); at += chunk) owned.push_back(message.substr(at, chunk));
  const std::vector<std::string_view> pieces(owned.begin(), owned.end());

  zerobus::server::FlightDataView view;
  const std::string error = zerobus::server::ScanFlightData(pieces, &view);
  if (!error.empty()) {
    if (error.size() > kMaxMessageBytes) std::abort();
    return 0;
  }
  std::string body;
  for (std::string_view part : view.data_body) body.append(part);
  if (body.size() != view.data_body_size) std::abort();
  arrow::flight::protocol::FlightData parsed;
  if (parsed.ParseFromString(message) &&
      (view.data_header != parsed.data_header() || view.app_metadata != parsed.app_metadata() ||
       body != parsed.data_body())) {
    std::abort();
  }

  static const za::Schema schema = FuzzSchema();
  za::ReadLimits limits;
  limits.max_materialized_bytes = 1 << 20;  // within libFuzzer's memory limit
  std::vector<za::Buffer> body_pieces;
  for (std::string_view part : view.data_body) {
    body_pieces.push_back(za::Buffer{Bytes(part), part.size(), nullptr});
  }
  za::RecordBatch whole;
  const za::Status whole_status =
      za::DecodeRecordBatch(schema, Bytes(view.data_header), view.data_header.size(),
                            za::Buffer{Bytes(body), body.size(), nullptr}, limits, &whole);
  za::RecordBatch in_pieces;
  const za::Status pieces_status = za::DecodeRecordBatch(
      schema, Bytes(view.data_header), view.data_header.size(), body_pieces, limits, &in_pieces);
  int64_t rows = -1;
  const za::Status checked = za::CheckRecordBatch(
      schema, Bytes(view.data_header), view.data_header.size(), body_pieces, limits, &rows);
  if (pieces_status.message() != whole_status.message() ||
      checked.message() != whole_status.message() || checked.ok() != whole_status.ok()) {
    std::abort();
  }
  if (!whole_status.ok()) {
    if (whole_status.message().size() > kMaxMessageBytes) std::abort();
    return 0;
  }
  if (rows != whole.length || in_pieces.length != whole.length ||
      in_pieces.columns.size() != whole.columns.size()) {
    std::abort();
  }
  for (size_t i = 0; i < whole.columns.size(); ++i) {
    if (!SameBuffers(in_pieces.columns[i], whole.columns[i])) std::abort();
  }
  return 0;
}
