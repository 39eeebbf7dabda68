#include "core/window.h"

#include <grpcpp/support/byte_buffer.h>
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "core/wire.h"

namespace zerobus {
namespace {

RecordView View(const std::string &record) {
  return RecordView{record.data(), record.size()};
}

uint64_t AppendOne(Window &window, const std::string &record) {
  const RecordView view = View(record);
  return window.Append(&view, 1, wire::RecordEntrySize(record.size()));
}

TEST(Window, CoalescesPendingRecordsIntoOneRequest) {
  Window window({100, 1 << 20, 1 << 20});
  for (int i = 0; i < 10; ++i) EXPECT_EQ(AppendOne(window, "record"), static_cast<uint64_t>(i));
  int64_t wire_offset = -1;
  SegmentPtr segment = window.TakeNextToSend(&wire_offset);
  ASSERT_TRUE(segment);
  EXPECT_EQ(wire_offset, 0);
  EXPECT_EQ(segment->first_offset(), 0u);
  EXPECT_EQ(segment->record_count(), 10u);
  EXPECT_FALSE(window.TakeNextToSend(&wire_offset));
  // Records after the take start a new request.
  AppendOne(window, "later");
  segment = window.TakeNextToSend(&wire_offset);
  ASSERT_TRUE(segment);
  EXPECT_EQ(wire_offset, 1);
  EXPECT_EQ(segment->first_offset(), 10u);
}

TEST(Window, SplitsAtTheRequestLimit) {
  const size_t limit = 1024;
  Window window({1000, 1 << 20, limit});
  const std::string record(200, 'r');
  for (int i = 0; i < 20; ++i) AppendOne(window, record);
  int64_t wire_offset;
  size_t records = 0, requests = 0;
  while (SegmentPtr segment = window.TakeNextToSend(&wire_offset)) {
    EXPECT_LE(segment->size() + wire::kMaxBatchHeaderBytes, limit);
    EXPECT_EQ(segment->first_offset(), records);
    records += segment->record_count();
    ++requests;
  }
  EXPECT_EQ(records, 20u);
  EXPECT_EQ(requests, 5u);  // four 202-byte entries per request
}

TEST(Window, RejectsWhatCannotFitOneRequest) {
  Window window({1000, 1 << 20, 1024});
  size_t framed = 0;
  const std::string big(1024, 'b');
  const RecordView view = View(big);
  EXPECT_EQ(window.CheckFits(&view, 1, &framed).code(), StatusCode::kRecordTooLarge);
  const std::string fits(1024 - wire::kMaxBatchHeaderBytes - 3, 'f');
  const RecordView fits_view = View(fits);
  EXPECT_TRUE(window.CheckFits(&fits_view, 1, &framed).ok());
  EXPECT_EQ(framed, wire::RecordEntrySize(fits.size()));
  std::vector<RecordView> batch(2, fits_view);
  EXPECT_EQ(window.CheckFits(batch.data(), 2, &framed).code(), StatusCode::kRecordTooLarge);
}

// The lengths are never read through: only the sizes matter, so the views point at nothing.
TEST(Window, RefusesSizesThatWouldWrapAround) {
  Window window({1000, 1 << 20, 1024});
  size_t framed = 0;
  const RecordView largest{"", SIZE_MAX};
  const Status one = window.CheckFits(&largest, 1, &framed);
  EXPECT_EQ(one.code(), StatusCode::kRecordTooLarge);
  EXPECT_NE(one.message().find("a record of 18446744073709551615 bytes"), std::string::npos)
      << one.message();
  EXPECT_EQ(framed, SIZE_MAX);
  // Framed, the first takes SIZE_MAX - 9 bytes and the second 12: 2 bytes all told, wrapped.
  const std::vector<RecordView> wrapping = {{"", SIZE_MAX - 20}, {"", 10}};
  const Status both = window.CheckFits(wrapping.data(), wrapping.size(), &framed);
  EXPECT_EQ(both.code(), StatusCode::kRecordTooLarge);
  EXPECT_NE(both.message().find("a batch of 2 records (more than"), std::string::npos)
      << both.message();
  // Each within the limit, together past SIZE_MAX: 2^22 entries of 2^42 bytes each.
  const size_t length = (size_t{1} << 42) - 7;
  ASSERT_EQ(wire::RecordEntrySize(length), size_t{1} << 42);
  Window unlimited({1000, 1 << 20, SIZE_MAX});
  const std::vector<RecordView> many(size_t{1} << 22, RecordView{"", length});
  EXPECT_EQ(unlimited.CheckFits(many.data(), many.size(), &framed).code(),
            StatusCode::kRecordTooLarge);
  EXPECT_EQ(framed, SIZE_MAX);
}

TEST(Window, BoundsRecordsAndBytesButAdmitsIntoAnEmptyWindow) {
  Window window({2, 100, 1 << 20});
  const std::string big(500, 'x');
  EXPECT_TRUE(window.HasRoom(1, wire::RecordEntrySize(big.size())));
  AppendOne(window, big);
  EXPECT_FALSE(window.HasRoom(1, 3));

  Window by_count({2, 1 << 20, 1 << 20});
  AppendOne(by_count, "a");
  AppendOne(by_count, "b");
  EXPECT_FALSE(by_count.HasRoom(1, 3));
  int64_t wire_offset;
  ASSERT_TRUE(by_count.TakeNextToSend(&wire_offset));
  AckedRange acked;
  bool released;
  Status error;
  ASSERT_TRUE(by_count.Ack(0, &acked, &released, &error));
  EXPECT_TRUE(by_count.HasRoom(2, 6));
  EXPECT_EQ(by_count.records(), 0u);
  EXPECT_EQ(by_count.bytes(), 0u);
}

TEST(Window, CumulativeAcksReleaseWholeRequestsInOrder) {
  Window window({100, 1 << 20, 1 << 20});
  int64_t wire_offset;
  for (int request = 0; request < 3; ++request) {
    AppendOne(window, "x");
    AppendOne(window, "y");
    ASSERT_TRUE(window.TakeNextToSend(&wire_offset));
    EXPECT_EQ(wire_offset, request);
  }
  AckedRange acked;
  bool released;
  Status error;
  ASSERT_TRUE(window.Ack(1, &acked, &released, &error));
  ASSERT_TRUE(released);
  EXPECT_EQ(acked.first_offset, 0u);
  EXPECT_EQ(acked.last_offset, 3u);
  EXPECT_EQ(window.acked_count(), 4u);
  // Repeating an ack is harmless; going backwards or past what was sent is not.
  ASSERT_TRUE(window.Ack(1, &acked, &released, &error));
  EXPECT_FALSE(released);
  EXPECT_FALSE(window.Ack(0, &acked, &released, &error));
  EXPECT_EQ(error.code(), StatusCode::kProtocol);
  EXPECT_FALSE(window.Ack(3, &acked, &released, &error));
  EXPECT_EQ(error.code(), StatusCode::kProtocol);
  ASSERT_TRUE(window.Ack(2, &acked, &released, &error));
  EXPECT_EQ(acked.first_offset, 4u);
  EXPECT_EQ(acked.last_offset, 5u);
  EXPECT_TRUE(window.all_acked());
}

TEST(Window, BlockedIngestIsWorthWakingOnceAQuarterIsFree) {
  // By records: 100 at most, so room for 25 more is the mark.
  Window by_records({100, 1 << 20, 1 << 20});
  EXPECT_TRUE(by_records.HasRefillRoom());
  for (int i = 0; i < 75; ++i) AppendOne(by_records, "r");
  EXPECT_TRUE(by_records.HasRefillRoom());
  AppendOne(by_records, "r");
  EXPECT_FALSE(by_records.HasRefillRoom());
  int64_t wire_offset;
  ASSERT_TRUE(by_records.TakeNextToSend(&wire_offset));
  AckedRange acked;
  bool released;
  Status error;
  ASSERT_TRUE(by_records.Ack(wire_offset, &acked, &released, &error));
  EXPECT_TRUE(by_records.HasRefillRoom());

  // By bytes: 4000 at most, entries of 102 bytes, so room for 1000 more is the mark.
  Window by_bytes({1000, 4000, 1 << 20});
  const std::string record(100, 'b');
  for (int i = 0; i < 29; ++i) AppendOne(by_bytes, record);
  EXPECT_TRUE(by_bytes.HasRefillRoom());
  AppendOne(by_bytes, record);
  EXPECT_FALSE(by_bytes.HasRefillRoom());
  EXPECT_TRUE(by_bytes.HasRoom(1, wire::RecordEntrySize(record.size())));
}

TEST(Window, RewindResendsUnackedRequestsFromWireOffsetZero) {
  Window window({100, 1 << 20, 1 << 20});
  int64_t wire_offset;
  AppendOne(window, "a");
  SegmentPtr first = window.TakeNextToSend(&wire_offset);
  AppendOne(window, "b");
  SegmentPtr second = window.TakeNextToSend(&wire_offset);
  AppendOne(window, "c");  // never sent
  AckedRange acked;
  bool released;
  Status error;
  ASSERT_TRUE(window.Ack(0, &acked, &released, &error));
  EXPECT_EQ(window.Rewind(), 1u);  // "b" goes out again; "c" was never sent
  SegmentPtr resent = window.TakeNextToSend(&wire_offset);
  EXPECT_EQ(wire_offset, 0);
  EXPECT_EQ(resent, second);  // the same request, same grouping
  SegmentPtr unsent = window.TakeNextToSend(&wire_offset);
  EXPECT_EQ(wire_offset, 1);
  EXPECT_EQ(unsent->first_offset(), 2u);
  ASSERT_TRUE(window.Ack(1, &acked, &released, &error));
  EXPECT_EQ(acked.first_offset, 1u);
  EXPECT_EQ(acked.last_offset, 2u);
}

TEST(Window, VisitsUnackedRecordsWithTheirOffsetsAndRequests) {
  Window window({100, 1 << 20, 1 << 20});
  int64_t wire_offset;
  AppendOne(window, "zero");
  window.TakeNextToSend(&wire_offset);
  AppendOne(window, "one");
  AppendOne(window, "two");
  AckedRange acked;
  bool released;
  Status error;
  ASSERT_TRUE(window.Ack(0, &acked, &released, &error));
  std::vector<std::tuple<size_t, uint64_t, std::string>> unacked;
  window.VisitUnacked([&](size_t request, uint64_t offset, std::string_view record) {
    unacked.emplace_back(request, offset, std::string(record));
  });
  ASSERT_EQ(unacked.size(), 2u);
  EXPECT_EQ(unacked[0], std::make_tuple(size_t{0}, uint64_t{1}, std::string("one")));
  EXPECT_EQ(unacked[1], std::make_tuple(size_t{0}, uint64_t{2}, std::string("two")));
}

// A record of `size` bytes that differs from every other index.
std::string NumberedRecord(size_t index, size_t size) {
  std::string record(size, '\0');
  for (size_t i = 0; i < size; ++i) record[i] = static_cast<char>((index * 131 + i * 7) % 251);
  return record;
}

std::vector<std::string_view> UnackedRecords(const Window &window) {
  std::vector<std::string_view> records;
  window.VisitUnacked(
      [&](size_t, uint64_t, std::string_view record) { records.push_back(record); });
  return records;
}

// A persistent stream's window: wire offsets are the records' own, acks may end inside a
// request, a new call sends from the first record not acknowledged, and a resume's watermark
// acknowledges what the server committed.
TEST(Window, DurableOffsetsAckInsideARequestAndResumeAtTheWatermark) {
  Window window({100, 1 << 20, 1 << 20}, nullptr, RecordFormat::kProto,
                /*durable_offsets=*/true);
  window.StartAt(10);
  int64_t wire_offset;
  const std::vector<std::string> records = {"a", "b", "c", "d"};
  std::vector<RecordView> views;
  for (const std::string &record : records) views.push_back(View(record));
  size_t framed = 0;
  ASSERT_TRUE(window.CheckFits(views.data(), views.size(), &framed).ok());
  EXPECT_EQ(window.Append(views.data(), views.size(), framed), 13u);
  SegmentPtr sent = window.TakeNextToSend(&wire_offset);
  EXPECT_EQ(wire_offset, 10);
  EXPECT_EQ(window.wire_counters().requests_sent, 4u);  // one request per record
  AckedRange acked;
  bool released;
  Status error;
  ASSERT_TRUE(window.Ack(11, &acked, &released, &error));
  EXPECT_TRUE(released);
  EXPECT_EQ(acked.first_offset, 10u);
  EXPECT_EQ(acked.last_offset, 11u);
  EXPECT_EQ(window.acked_count(), 12u);
  EXPECT_EQ(window.records(), 2u);
  EXPECT_EQ(UnackedRecords(window), (std::vector<std::string_view>{"c", "d"}));
  EXPECT_FALSE(window.Ack(9, &acked, &released, &error));   // backwards
  EXPECT_FALSE(window.Ack(14, &acked, &released, &error));  // never sent

  // A new call: "c" and "d" were sent and not acknowledged.
  EXPECT_EQ(window.Rewind(), 2u);
  // The server committed "c" before the call broke: the resume says so, and only "d" goes out.
  ASSERT_TRUE(window.Resume(true, 12, &acked, &released, &error));
  EXPECT_TRUE(released);
  EXPECT_EQ(acked.first_offset, 12u);
  EXPECT_EQ(acked.last_offset, 12u);
  SegmentPtr resent = window.TakeNextToSend(&wire_offset);
  EXPECT_EQ(resent, sent);
  EXPECT_EQ(wire_offset, 13);
  ASSERT_TRUE(window.Ack(13, &acked, &released, &error));
  EXPECT_TRUE(window.all_acked());
  EXPECT_EQ(window.records(), 0u);
  EXPECT_EQ(window.bytes(), 0u);
}

TEST(Window, DurableOffsetsRefuseAResumeThatForgotOrInvented) {
  Window window({100, 1 << 20, 1 << 20}, nullptr, RecordFormat::kProto,
                /*durable_offsets=*/true);
  int64_t wire_offset;
  AppendOne(window, "a");
  AppendOne(window, "b");
  window.TakeNextToSend(&wire_offset);
  AckedRange acked;
  bool released;
  Status error;
  ASSERT_TRUE(window.Ack(0, &acked, &released, &error));
  window.Rewind();
  // Nothing committed after an ack of offset 0: the server forgot it.
  EXPECT_FALSE(window.Resume(false, 0, &acked, &released, &error));
  EXPECT_EQ(error.code(), StatusCode::kProtocol);
  // Offset 2 was never sent.
  EXPECT_FALSE(window.Resume(true, 2, &acked, &released, &error));
  // The watermark it acknowledged already: nothing released.
  ASSERT_TRUE(window.Resume(true, 0, &acked, &released, &error));
  EXPECT_FALSE(released);
}

// The bytes of a request as gRPC would send them.
std::string Flatten(const grpc::ByteBuffer &request) {
  std::vector<grpc::Slice> slices;
  EXPECT_TRUE(request.Dump(&slices).ok());
  std::string bytes;
  for (const grpc::Slice &slice : slices) {
    bytes.append(reinterpret_cast<const char *>(slice.begin()), slice.size());
  }
  return bytes;
}

// PersistentStream's ingest_record request of `record` at `offset`.
std::string RecordRequest(int64_t offset, const std::string &record) {
  uint8_t header[wire::kMaxBatchHeaderBytes];
  const size_t len = wire::WriteRecordHeader(header, offset, RecordFormat::kProto, record.size());
  return std::string(reinterpret_cast<const char *>(header), len) + record;
}

// With durable offsets a request carries one record: a segment of three yields three requests,
// the first two saying another is ready behind them, and after a resume only the records above
// the watermark go out again.
TEST(Window, DurableOffsetsTakeOneRequestPerRecord) {
  Window window({100, 1 << 20, 1 << 20}, nullptr, RecordFormat::kProto,
                /*durable_offsets=*/true);
  const std::vector<std::string> records = {"a", "bb", "ccc"};
  std::vector<RecordView> views;
  for (const std::string &record : records) views.push_back(View(record));
  size_t framed = 0;
  ASSERT_TRUE(window.CheckFits(views.data(), views.size(), &framed).ok());
  window.Append(views.data(), views.size(), framed);
  grpc::ByteBuffer request;
  for (size_t i = 0; i < records.size(); ++i) {
    ASSERT_TRUE(window.TakeNextRequest(&request));
    EXPECT_EQ(Flatten(request), RecordRequest(static_cast<int64_t>(i), records[i]));
    EXPECT_EQ(window.more_ready(), i + 1 < records.size());
  }
  EXPECT_FALSE(window.TakeNextRequest(&request));
  EXPECT_EQ(window.wire_counters().requests_sent, 3u);

  // The call breaks after the first record was written; the resume finds it committed.
  EXPECT_EQ(window.Rewind(), 3u);
  AckedRange acked;
  bool released;
  Status error;
  ASSERT_TRUE(window.Resume(true, 0, &acked, &released, &error));
  ASSERT_TRUE(window.TakeNextRequest(&request));
  EXPECT_EQ(Flatten(request), RecordRequest(1, "bb"));
  EXPECT_TRUE(window.more_ready());
  // Broken again half-way through the segment: it starts over from the first unacknowledged.
  window.Rewind();
  ASSERT_TRUE(window.TakeNextRequest(&request));
  EXPECT_EQ(Flatten(request), RecordRequest(1, "bb"));
  ASSERT_TRUE(window.TakeNextRequest(&request));
  EXPECT_EQ(Flatten(request), RecordRequest(2, "ccc"));
  EXPECT_FALSE(window.more_ready());
  ASSERT_TRUE(window.Ack(2, &acked, &released, &error));
  EXPECT_TRUE(window.all_acked());
}

TEST(Window, LargeRecordsFarFromTheWireArriveIntact) {
  // 1,200 records of 10 KB: those behind 8 MiB of unsent requests are copied around the cache.
  Window window({100000, 64 << 20, 10 << 20});
  constexpr size_t kCount = 1200;
  constexpr size_t kSize = 10000;
  for (size_t i = 0; i < kCount; ++i) AppendOne(window, NumberedRecord(i, kSize));
  // Sending and rewinding moves records between sent and unsent; then a few more.
  int64_t wire_offset = 0;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(window.TakeNextToSend(&wire_offset));
  window.Rewind();
  for (size_t i = kCount; i < kCount + 50; ++i) AppendOne(window, NumberedRecord(i, kSize));
  const std::vector<std::string_view> records = UnackedRecords(window);
  ASSERT_EQ(records.size(), kCount + 50);
  for (size_t i = 0; i < records.size(); ++i) {
    ASSERT_EQ(records[i], NumberedRecord(i, kSize)) << "record " << i;
  }
}

TEST(Window, ARequestAfterAFullOneNeverOutgrowsItsBuffer) {
  // Growing a buffer copies what it holds; once a full request was sealed, the next starts with
  // room for as much, so a producer that outruns the wire copies each record once.
  Window window({100000, 64 << 20, 10 << 20});
  const std::string record(10000, 'r');
  const size_t per_request = (1 << 20) / wire::RecordEntrySize(record.size());
  for (size_t i = 0; i <= per_request; ++i) AppendOne(window, record);
  const char *first_of_second = UnackedRecords(window)[per_request].data();
  for (size_t i = 1; i < per_request; ++i) AppendOne(window, record);
  const std::vector<std::string_view> records = UnackedRecords(window);
  ASSERT_EQ(records.size(), 2 * per_request);
  EXPECT_EQ(records[per_request].data(), first_of_second);
  int64_t wire_offset = 0;
  EXPECT_EQ(window.TakeNextToSend(&wire_offset)->record_count(), per_request);
  EXPECT_EQ(window.TakeNextToSend(&wire_offset)->record_count(), per_request);
}

}  // namespace
}  // namespace zerobus
