// libFuzzer target: the raw bytes of one request to `zerobus serve`, read as the server reads
// them. ScanIngestRequest (server/ingest_request_view) reads an ingest_record_batch or
// ingest_record in place and must agree with protobuf's own parse about every request it takes,
// and with itself however the request is cut into pieces (as gRPC's slices cut it); whatever
// protobuf parses then goes where the server sends it: create_stream to its checks (the
// descriptor built and checked against the table), records to the JSON or proto decoder.
// Nothing may crash, and no refusal may carry a message that grows with the input.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <google/protobuf/descriptor.pb.h>

#include "server/descriptor_check.h"
#include "server/ingest_request_view.h"
#include "server/record_decoder.h"
#include "server/validation.h"
#include "table/ddl_parser.h"
#include "table/proto_schema.h"
#include "zerobus_service.pb.h"

namespace {

using databricks::zerobus::EphemeralStreamRequest;
using zerobus::server::RecordDecoder;

constexpr char kTable[] =
    "fuzz.default.events (id BIGINT NOT NULL, name VARCHAR(8), f FLOAT, ts TIMESTAMP, "
    "v VARIANT, tags ARRAY<STRING>, attrs MAP<STRING, INT>, loc STRUCT<lat: DOUBLE NOT NULL>)";

// Messages quote excerpts: a column path, a few dozen bytes of a value, a protobuf type's name.
constexpr size_t kMaxMessage = 1024;

// The table with both of its decoders, built once.
struct Fixture {
  Fixture() {
    std::string error;
    if (!zerobus::table::ParseTableDdl(kTable, &table, &error)) std::abort();
    google::protobuf::DescriptorProto message;
    if (!zerobus::table::BuildDescriptor(table, &message, &error)) std::abort();
    zerobus::server::CheckedDescriptor checked;
    if (!zerobus::server::CheckDescriptor(message.SerializeAsString(), &table, &checked).ok()) {
      std::abort();
    }
    json = zerobus::server::NewJsonDecoder(table);
    proto = zerobus::server::NewProtoDecoder(table, std::move(checked));
  }
  zerobus::table::TableSchema table;
  std::unique_ptr<RecordDecoder> json;
  std::unique_ptr<RecordDecoder> proto;
};

void CheckMessage(const std::string &message) {
  if (message.size() > kMaxMessage) std::abort();
}

void Decode(Fixture *fixture, bool json, std::string_view record) {
  zerobus::server::Row row;
  CheckMessage((json ? fixture->json : fixture->proto)->Decode(record, &row));
}

void CreateStream(Fixture *fixture, const databricks::zerobus::CreateIngestStreamRequest &create) {
  databricks::zerobus::RecordType type;
  const grpc::Status status = zerobus::server::CheckCreateStream(create, &type);
  CheckMessage(status.error_message());
  if (!status.ok() || !create.has_descriptor_proto()) return;
  zerobus::server::CheckedDescriptor checked;
  CheckMessage(
      zerobus::server::CheckDescriptor(create.descriptor_proto(), &fixture->table, &checked)
          .error_message());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static Fixture *fixture = new Fixture;  // never freed: lives as long as the fuzzer
  const std::string_view bytes(reinterpret_cast<const char *>(data), size);
  zerobus::server::IngestRequestView view;
  const bool scanned = zerobus::server::ScanIngestRequest({bytes}, &view);
  // The same bytes in pieces, each in memory of its own so that reading past one is caught; the
  // piece size comes from the input so that the fuzzer varies it.
  const size_t chunk = size == 0 ? 1 : 1 + data[size - 1] % 32;
  std::vector<std::string> owned;
  for (size_t at = 0; at < size; at += chunk) owned.emplace_back(bytes.substr(at, chunk));
  const std::vector<std::string_view> pieces(owned.begin(), owned.end());
  zerobus::server::IngestRequestView cut_view;
  if (zerobus::server::ScanIngestRequest(pieces, &cut_view) != scanned) {
    std::abort();
  }
  EphemeralStreamRequest request;
  const bool parsed = request.ParseFromArray(data, static_cast<int>(size));
  if (scanned) {
    // The scanner takes only plain batches and records, and reads them as protobuf does.
    using Kind = zerobus::server::IngestRequestView::Kind;
    if (!parsed || view.batch != request.has_ingest_record_batch() ||
        (!view.batch && !request.has_ingest_record())) {
      std::abort();
    }
    const auto &batch = request.ingest_record_batch();
    const auto &single = request.ingest_record();
    const Kind kind = view.batch ? (batch.has_json_batch()   ? Kind::kJson
                                    : batch.has_avro_batch() ? Kind::kAvro
                                                             : Kind::kProto)
                                 : (single.has_json_record()           ? Kind::kJson
                                    : single.has_avro_encoded_record() ? Kind::kAvro
                                                                       : Kind::kProto);
    google::protobuf::RepeatedPtrField<std::string> records;
    if (view.batch) {
      records = kind == Kind::kJson   ? batch.json_batch().records()
                : kind == Kind::kAvro ? batch.avro_batch().records()
                                      : batch.proto_encoded_batch().records();
    } else {
      *records.Add() = kind == Kind::kJson   ? single.json_record()
                       : kind == Kind::kAvro ? single.avro_encoded_record()
                                             : single.proto_encoded_record();
    }
    const int64_t offset_id = view.batch ? batch.offset_id() : single.offset_id();
    if (view.offset_id != offset_id || view.kind != kind ||
        view.records.size() != static_cast<size_t>(records.size())) {
      std::abort();
    }
    if (cut_view.offset_id != view.offset_id || cut_view.batch != view.batch ||
        cut_view.kind != kind || cut_view.records.size() != view.records.size()) {
      std::abort();
    }
    for (int i = 0; i < records.size(); ++i) {
      const auto at = static_cast<size_t>(i);
      if (view.Contiguous(at) != records.Get(i) || cut_view.Contiguous(at) != records.Get(i) ||
          cut_view.Copy(at) != records.Get(i)) {
        std::abort();
      }
    }
  }
  if (!parsed) return 0;
  switch (request.payload_case()) {
    case EphemeralStreamRequest::kCreateStream:
      CreateStream(fixture, request.create_stream());
      break;
    case EphemeralStreamRequest::kIngestRecord: {
      const auto &ingest = request.ingest_record();
      if (ingest.has_json_record()) Decode(fixture, true, ingest.json_record());
      if (ingest.has_proto_encoded_record()) Decode(fixture, false, ingest.proto_encoded_record());
      break;
    }
    case EphemeralStreamRequest::kIngestRecordBatch: {
      const auto &batch = request.ingest_record_batch();
      for (const std::string &record : batch.json_batch().records()) Decode(fixture, true, record);
      for (const std::string &record : batch.proto_encoded_batch().records()) {
        Decode(fixture, false, record);
      }
      break;
    }
    default:
      break;
  }
  return 0;
}
