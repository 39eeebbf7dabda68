// The window of an Arrow stream without the network: a batch's buffers go into the request as
// they are (no copy), from the C Data Interface on, and are let go once acknowledged; batches over
// the frame limit are split by rows; frames are numbered per call; a partly acknowledged batch is
// sent again cut to its rows that were not; acks that go backwards or beyond what was sent are
// refused. The frames are read back with the generated FlightData code.
#include "core/batch_window.h"

#include <grpcpp/support/slice.h>
#include <gtest/gtest.h>
#include <zerobus/arrow_c_data.h>

#include <memory>
#include <string>
#include <vector>

#include "arrow/c_data_import.h"
#include "arrow/ipc_reader.h"
#include "arrow_flight.pb.h"
#include "core/flight_wire.h"

namespace zerobus {
namespace {

namespace za = zerobus::arrow;

std::shared_ptr<const za::Schema> IdSchema() {
  auto schema = std::make_shared<za::Schema>();
  za::Field id;
  id.name = "id";
  id.type.id = za::TypeId::kInt64;
  id.nullable = false;
  schema->fields.push_back(id);
  return schema;
}

// A batch of ids 0 .. rows-1 in a buffer whose owner counts its own end in *freed, as a
// producer's release would.
za::RecordBatch Ids(int64_t rows, int *freed, const int64_t **values = nullptr) {
  auto storage = std::make_shared<std::vector<int64_t>>(rows);
  for (int64_t i = 0; i < rows; ++i) (*storage)[i] = i;
  if (values) *values = storage->data();
  std::shared_ptr<const void> owner(storage.get(), [storage, freed](const void *) mutable {
    ++*freed;
    storage.reset();
  });
  za::ArrayData column;
  column.length = rows;
  column.buffers.push_back(za::Buffer{});
  column.buffers.push_back(za::Buffer{reinterpret_cast<const uint8_t *>(storage->data()),
                                      static_cast<size_t>(rows) * sizeof(int64_t), owner});
  za::RecordBatch batch;
  batch.length = rows;
  batch.columns.push_back(column);
  return batch;
}

BatchLimits Limits(size_t max_frame_bytes = 10 << 20, za::Codec codec = za::Codec::kNone) {
  return BatchLimits{1000, 64 << 20, max_frame_bytes, codec};
}

std::vector<grpc::Slice> Slices(const grpc::ByteBuffer &request) {
  std::vector<grpc::Slice> slices;
  EXPECT_TRUE(request.Dump(&slices).ok());
  return slices;
}

::arrow::flight::protocol::FlightData Parse(const grpc::ByteBuffer &request) {
  std::string bytes;
  for (const grpc::Slice &slice : Slices(request)) {
    bytes.append(reinterpret_cast<const char *>(slice.begin()), slice.size());
  }
  ::arrow::flight::protocol::FlightData frame;
  EXPECT_TRUE(frame.ParseFromString(bytes));
  return frame;
}

// The ids a frame carries.
std::vector<int64_t> FrameIds(const za::Schema &schema, const grpc::ByteBuffer &request) {
  const auto frame = Parse(request);
  za::RecordBatch batch;
  const auto *header = reinterpret_cast<const uint8_t *>(frame.data_header().data());
  const za::Buffer body{reinterpret_cast<const uint8_t *>(frame.data_body().data()),
                        frame.data_body().size(), nullptr};
  EXPECT_TRUE(za::DecodeRecordBatch(schema, header, frame.data_header().size(), body,
                                    za::ReadLimits(), &batch)
                  .ok());
  const auto *ids = reinterpret_cast<const int64_t *>(batch.columns[0].buffers[1].data);
  return std::vector<int64_t>(ids + batch.columns[0].offset,
                              ids + batch.columns[0].offset + batch.length);
}

TEST(BatchWindow, SendsTheBatchBuffersWithoutCopyingAndLetsThemGoOnceAcked) {
  BatchWindow window(IdSchema(), Limits());
  int freed = 0;
  const int64_t *values = nullptr;
  EncodedBatch encoded;
  ASSERT_TRUE(window.Encode(Ids(1000, &freed, &values), &encoded).ok());
  EXPECT_EQ(window.Append(std::move(encoded)), 0u);
  {
    grpc::ByteBuffer request;
    ASSERT_TRUE(window.TakeNextRequest(&request));
    bool shared = false;
    for (const grpc::Slice &slice : Slices(request)) {
      shared = shared || (slice.begin() == reinterpret_cast<const uint8_t *>(values) &&
                          slice.size() == 1000 * sizeof(int64_t));
    }
    EXPECT_TRUE(shared) << "the values' buffer is not a slice of the request";
    EXPECT_EQ(Parse(request).app_metadata(), "{\"offset_id\":0}");
  }
  EXPECT_EQ(freed, 0);
  AckedRange acked{};
  bool released = false;
  Status error;
  ASSERT_TRUE(window.Ack(1000, &acked, &released, &error));
  EXPECT_TRUE(released);
  EXPECT_EQ(acked.last_offset, 0u);
  EXPECT_EQ(freed, 1);
}

// Whether one of the request's slices is exactly `bytes` bytes at `data`.
bool HasSlice(const grpc::ByteBuffer &request, const void *data, size_t bytes) {
  for (const grpc::Slice &slice : Slices(request)) {
    if (slice.begin() == static_cast<const uint8_t *>(data) && slice.size() == bytes) return true;
  }
  return false;
}

// The whole way zb_stream_ingest_arrow() takes an uncompressed batch: imported from the C Data
// Interface, encoded, put in the window and taken as the request gRPC writes. The request's
// body is the producer's own buffers, and its release runs once, when the batch is acked.
TEST(BatchWindow, ABatchTakenAsCDataGoesToTheWireInItsOwnBuffersUntilAcked) {
  static const int64_t ids[4] = {7, 8, 9, 10};
  static const int32_t offsets[5] = {0, 3, 6, 9, 13};
  static const char text[] = "onetwosixseven";
  const void *id_buffers[2] = {nullptr, ids};
  const void *text_buffers[3] = {nullptr, offsets, text};
  const void *top_buffers[1] = {nullptr};
  ArrowSchema id_schema{"l",    "id",    nullptr, 0,
                        0,      nullptr, nullptr, [](ArrowSchema *s) { s->release = nullptr; },
                        nullptr};
  ArrowSchema text_schema{"u",    "name",  nullptr, 0,
                          0,      nullptr, nullptr, [](ArrowSchema *s) { s->release = nullptr; },
                          nullptr};
  ArrowSchema *field_schemas[2] = {&id_schema, &text_schema};
  ArrowSchema c_schema{"+s",    "",
                       nullptr, 0,
                       2,       field_schemas,
                       nullptr, [](ArrowSchema *s) { s->release = nullptr; },
                       nullptr};
  za::CDataSchema schema;
  ASSERT_TRUE(za::CDataSchema::Import(c_schema, &schema).ok());

  static int releases = 0;
  releases = 0;
  auto release_child = [](ArrowArray *a) { a->release = nullptr; };
  ArrowArray id_array{4, 0, 0, 2, 0, id_buffers, nullptr, nullptr, release_child, nullptr};
  ArrowArray text_array{4, 0, 0, 3, 0, text_buffers, nullptr, nullptr, release_child, nullptr};
  ArrowArray *children[2] = {&id_array, &text_array};
  ArrowArray c_batch{4,
                     0,
                     0,
                     1,
                     2,
                     top_buffers,
                     children,
                     nullptr,
                     [](ArrowArray *a) {
                       ++releases;
                       for (int64_t i = 0; i < a->n_children; ++i) {
                         if (a->children[i]->release) a->children[i]->release(a->children[i]);
                       }
                       a->release = nullptr;
                     },
                     nullptr};
  za::RecordBatch batch;
  ASSERT_TRUE(za::ImportRecordBatch(&c_batch, schema, &batch).ok());

  BatchWindow window(std::make_shared<const za::Schema>(schema.schema()), Limits());
  EncodedBatch encoded;
  ASSERT_TRUE(window.Encode(std::move(batch), &encoded).ok());
  window.Append(std::move(encoded));
  {
    grpc::ByteBuffer request;
    ASSERT_TRUE(window.TakeNextRequest(&request));
    EXPECT_TRUE(HasSlice(request, ids, sizeof(ids))) << "the ids were copied";
    EXPECT_TRUE(HasSlice(request, offsets, sizeof(offsets))) << "the offsets were copied";
    EXPECT_TRUE(HasSlice(request, text, 13)) << "the text was copied";
  }
  EXPECT_EQ(releases, 0) << "released before the server acknowledged the batch";
  AckedRange acked{};
  bool released = false;
  Status error;
  ASSERT_TRUE(window.Ack(4, &acked, &released, &error));
  EXPECT_EQ(releases, 1);
}

TEST(BatchWindow, CompressesACopyAndStillLetsTheBatchGoOnce) {
  BatchWindow window(IdSchema(), Limits(10 << 20, za::Codec::kZstd));
  int freed = 0;
  EncodedBatch encoded;
  ASSERT_TRUE(window.Encode(Ids(1000, &freed), &encoded).ok());
  window.Append(std::move(encoded));
  grpc::ByteBuffer request;
  ASSERT_TRUE(window.TakeNextRequest(&request));
  EXPECT_EQ(FrameIds(*IdSchema(), request).size(), 1000u);
  request.Clear();
  AckedRange acked{};
  bool released = false;
  Status error;
  ASSERT_TRUE(window.Ack(1000, &acked, &released, &error));
  EXPECT_EQ(freed, 1);
}

TEST(BatchWindow, SplitsABatchByRowsIntoFramesUnderTheLimit) {
  BatchWindow window(IdSchema(), Limits(4096));
  int freed = 0;
  EncodedBatch encoded;
  ASSERT_TRUE(window.Encode(Ids(2000, &freed), &encoded).ok());
  ASSERT_GE(encoded.frames.size(), 4u);
  window.Append(std::move(encoded));
  std::vector<int64_t> ids;
  grpc::ByteBuffer request;
  for (int64_t frame = 0; window.TakeNextRequest(&request); ++frame) {
    EXPECT_LE(request.Length(), 4096u);
    EXPECT_EQ(Parse(request).app_metadata(), "{\"offset_id\":" + std::to_string(frame) + "}");
    for (int64_t id : FrameIds(*IdSchema(), request)) ids.push_back(id);
  }
  ASSERT_EQ(ids.size(), 2000u);
  for (int64_t i = 0; i < 2000; ++i) ASSERT_EQ(ids[i], i);
}

TEST(BatchWindow, APartlyAckedBatchReplaysOnlyItsUnackedRows) {
  BatchWindow window(IdSchema(), Limits(4096));
  int freed = 0;
  EncodedBatch encoded;
  ASSERT_TRUE(window.Encode(Ids(2000, &freed), &encoded).ok());
  const int64_t first_frame_rows = encoded.frame_rows[0];
  window.Append(std::move(encoded));
  grpc::ByteBuffer request;
  ASSERT_TRUE(window.TakeNextRequest(&request));
  ASSERT_TRUE(window.TakeNextRequest(&request));
  AckedRange acked{};
  bool released = true;
  Status error;
  // The server made the first frame durable and a few rows of the second.
  const int64_t durable = first_frame_rows + 10;
  ASSERT_TRUE(window.Ack(durable, &acked, &released, &error));
  EXPECT_FALSE(released);
  EXPECT_EQ(window.Rewind(), 1u);
  std::vector<int64_t> ids;
  for (int64_t frame = 0; window.TakeNextRequest(&request); ++frame) {
    EXPECT_EQ(Parse(request).app_metadata(), "{\"offset_id\":" + std::to_string(frame) + "}");
    for (int64_t id : FrameIds(*IdSchema(), request)) ids.push_back(id);
  }
  ASSERT_EQ(ids.size(), static_cast<size_t>(2000 - durable));
  EXPECT_EQ(ids.front(), durable);
  EXPECT_EQ(ids.back(), 1999);
  // Rows count from 0 on the new call.
  ASSERT_TRUE(window.Ack(2000 - durable, &acked, &released, &error));
  EXPECT_TRUE(released);
  EXPECT_EQ(window.acked_count(), 1u);
  request.Clear();
  EXPECT_EQ(freed, 1);
}

TEST(BatchWindow, RefusesAcksBackwardsOrBeyondWhatWasSent) {
  BatchWindow window(IdSchema(), Limits());
  int freed = 0;
  EncodedBatch encoded;
  ASSERT_TRUE(window.Encode(Ids(10, &freed), &encoded).ok());
  window.Append(std::move(encoded));
  grpc::ByteBuffer request;
  ASSERT_TRUE(window.TakeNextRequest(&request));
  AckedRange acked{};
  bool released = false;
  Status error;
  EXPECT_FALSE(window.Ack(11, &acked, &released, &error));
  EXPECT_EQ(error.code(), StatusCode::kProtocol);
  ASSERT_TRUE(window.Ack(4, &acked, &released, &error));
  EXPECT_FALSE(window.Ack(3, &acked, &released, &error));
  EXPECT_EQ(error.code(), StatusCode::kProtocol);
}

TEST(BatchWindow, RefusesEmptyBatchesAndRowsLargerThanAFrame) {
  BatchWindow window(IdSchema(), Limits(1024));
  int freed = 0;
  EncodedBatch encoded;
  EXPECT_EQ(window.Encode(Ids(0, &freed), &encoded).code(), StatusCode::kEmptyBatch);
  auto schema = std::make_shared<za::Schema>();
  za::Field name;
  name.name = "name";
  name.type.id = za::TypeId::kBinary;
  schema->fields.push_back(name);
  BatchWindow binary(schema, Limits(1024));
  auto text = std::make_shared<std::string>(4096, 'x');
  auto offsets = std::make_shared<std::vector<int32_t>>(std::vector<int32_t>{0, 4096});
  za::ArrayData column;
  column.length = 1;
  column.buffers = {za::Buffer{},
                    za::Buffer{reinterpret_cast<const uint8_t *>(offsets->data()), 8, offsets},
                    za::Buffer{reinterpret_cast<const uint8_t *>(text->data()), 4096, text}};
  za::RecordBatch batch;
  batch.length = 1;
  batch.columns.push_back(column);
  const Status refused = binary.Encode(batch, &encoded);
  EXPECT_EQ(refused.code(), StatusCode::kRecordTooLarge);
  EXPECT_NE(refused.message().find("stream.max.request.bytes"), std::string::npos);
}

}  // namespace
}  // namespace zerobus
