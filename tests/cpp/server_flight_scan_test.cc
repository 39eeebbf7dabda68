// The server's in-place reading of FlightData (server/flight_data_view.h): what it takes must be
// what protobuf's own parse makes of the same bytes, however gRPC cut them into slices, and
// malformed bytes must be refused with a sentence that names what is wrong and where.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "arrow_flight.pb.h"
#include "server/flight_data_view.h"

namespace zerobus::server {
namespace {

using ::arrow::flight::protocol::FlightData;

std::string Joined(const std::vector<std::string_view> &parts) {
  std::string joined;
  for (std::string_view part : parts) joined.append(part);
  return joined;
}

// `bytes` cut at `cuts` (ascending offsets within it).
std::vector<std::string_view> CutAt(const std::string &bytes, const std::vector<size_t> &cuts) {
  std::vector<std::string_view> pieces;
  size_t from = 0;
  for (size_t cut : cuts) {
    pieces.push_back(std::string_view(bytes).substr(from, cut - from));
    from = cut;
  }
  pieces.push_back(std::string_view(bytes).substr(from));
  return pieces;
}

std::string Scan(const std::string &bytes, FlightDataView *view) {
  return ScanFlightData({bytes}, view);
}

std::string Varint(uint64_t value) {
  std::string bytes;
  do {
    uint8_t byte = value & 0x7F;
    value >>= 7;
    if (value != 0) byte |= 0x80;
    bytes.push_back(static_cast<char>(byte));
  } while (value != 0);
  return bytes;
}

std::string Tag(uint64_t field, uint64_t wire_type) {
  return Varint(field << 3 | wire_type);
}

std::string Delimited(uint64_t field, const std::string &contents) {
  return Tag(field, 2) + Varint(contents.size()) + contents;
}

FlightData Sample() {
  FlightData frame;
  frame.mutable_flight_descriptor()->set_cmd("a command");
  frame.mutable_flight_descriptor()->add_path("a path");
  frame.set_data_header(std::string(200, 'h') + std::string(1, '\0'));
  frame.set_app_metadata(R"({"offset_id":7})");
  std::string body;
  for (int i = 0; i < 3000; ++i) body.push_back(static_cast<char>(i * 7));
  frame.set_data_body(body);
  return frame;
}

TEST(FlightDataView, ReadsWhatTheGeneratedCodeWritesHoweverItIsCut) {
  const FlightData frame = Sample();
  const std::string bytes = frame.SerializeAsString();
  FlightDataView view;
  // Every cut into two pieces, and cuts every few bytes: fields and their tags and lengths
  // straddle pieces, empty pieces included.
  std::vector<std::vector<size_t>> cutting;
  for (size_t cut = 0; cut <= bytes.size(); ++cut) cutting.push_back({cut});
  for (size_t step : {1, 3, 64, 1000}) {
    std::vector<size_t> cuts;
    for (size_t cut = 0; cut <= bytes.size(); cut += step) cuts.push_back(cut);
    cuts.push_back(bytes.size());
    cutting.push_back(cuts);
  }
  for (const auto &cuts : cutting) {
    const std::vector<std::string_view> pieces = CutAt(bytes, cuts);
    ASSERT_EQ(ScanFlightData(pieces, &view), "") << cuts.size() << " cuts from " << cuts[0];
    EXPECT_EQ(view.data_header, frame.data_header());
    EXPECT_EQ(view.app_metadata, frame.app_metadata());
    EXPECT_EQ(Joined(view.data_body), frame.data_body());
    EXPECT_EQ(view.data_body_size, frame.data_body().size());
    for (std::string_view part : view.data_body) EXPECT_FALSE(part.empty());
  }
}

TEST(FlightDataView, TheBodyIsViewedInPlaceNotCopied) {
  const std::string bytes = Sample().SerializeAsString();
  const std::vector<std::string_view> pieces = CutAt(bytes, {bytes.size() / 2});
  FlightDataView view;
  ASSERT_EQ(ScanFlightData(pieces, &view), "");
  ASSERT_EQ(view.data_body.size(), 2u);
  EXPECT_EQ(view.data_body[0].data() + view.data_body[0].size(), pieces[1].data());
  EXPECT_EQ(view.data_body[1].data(), pieces[1].data());
  EXPECT_EQ(view.data_body[1].data() + view.data_body[1].size(), bytes.data() + bytes.size());
}

TEST(FlightDataView, AbsentFieldsAreEmptyAndAnEmptyMessageIsValid) {
  FlightDataView view;
  view.data_body = {"stale"};
  EXPECT_EQ(ScanFlightData({}, &view), "");
  EXPECT_TRUE(view.data_header.empty());
  EXPECT_TRUE(view.app_metadata.empty());
  EXPECT_TRUE(view.data_body.empty());
  EXPECT_EQ(view.data_body_size, 0u);
  const std::string metadata_only = Delimited(3, "m");
  EXPECT_EQ(Scan(metadata_only, &view), "");
  EXPECT_EQ(view.app_metadata, "m");
  EXPECT_TRUE(view.data_header.empty());
}

TEST(FlightDataView, FieldsItDoesNotReadAreSkippedInEveryWireType) {
  const std::string bytes = Tag(9, 0) + Varint(UINT64_MAX) + Tag(10, 1) + std::string(8, 'x') +
                            Delimited(11, "skipped") + Tag(12, 5) + std::string(4, 'y') +
                            Delimited(1, Delimited(2, "a command")) + Delimited(2, "head") +
                            Tag(536870911, 0) + Varint(1) + Delimited(1000, "body");
  FlightDataView view;
  ASSERT_EQ(Scan(bytes, &view), "");
  EXPECT_EQ(view.data_header, "head");
  EXPECT_EQ(Joined(view.data_body), "body");
  // Protobuf's parse agrees.
  FlightData parsed;
  ASSERT_TRUE(parsed.ParseFromString(bytes));
  EXPECT_EQ(parsed.data_header(), "head");
  EXPECT_EQ(parsed.data_body(), "body");
}

// Each malformed message is refused with what the scanner found, where it found it.
TEST(FlightDataView, MalformedBytesAreRefusedSayingWhatAndWhere) {
  const std::string head = Delimited(2, "head");  // 6 bytes
  struct Case {
    std::string bytes;
    std::string error;
  };
  const std::vector<Case> cases = {
      {head + "\x82", "a varint cut off by the end of the message at byte 6"},
      {head + Tag(1000, 2), "a varint cut off by the end of the message at byte 8"},
      {head + Tag(1000, 2) + "\xff\xff", "a varint cut off by the end of the message at byte 8"},
      {head + std::string(5, '\xff') + "\x01", "a tag longer than 5 bytes at byte 6"},
      {head + Tag(9, 0) + std::string(10, '\xff') + "\x01", "a varint beyond 64 bits at byte 7"},
      {head + Tag(9, 0) + std::string(11, '\x80'), "a varint beyond 64 bits at byte 7"},
      {head + Tag(10, 1) + "1234567",
       "a fixed-width field cut off by the end of the message at "
       "byte 6"},
      {head + Tag(12, 5) + "123",
       "a fixed-width field cut off by the end of the message at byte 6"},
      {head + Tag(1000, 2) + Varint(5) + "1234", "field 1000 of 5 bytes where 4 remain at byte 6"},
      {head + Tag(11, 2) + Varint(uint64_t{1} << 31) + "x",
       "field 11 of 2147483648 bytes where 1 remain at byte 6"},
      {head + Tag(1000, 0) + Varint(1),
       "data_body (field 1000) with wire type 0, not length-delimited (2), at byte 6"},
      {Tag(2, 5) + "1234",
       "data_header (field 2) with wire type 5, not length-delimited (2), at "
       "byte 0"},
      {head + Delimited(3, "m") + Delimited(2, "again"), "data_header a second time at byte 9"},
      {Delimited(1000, "a") + Delimited(1000, "b"), "data_body a second time at byte 4"},
      {head + Delimited(3, "m") + Delimited(3, "m"), "app_metadata a second time at byte 9"},
      {head + Tag(13, 3) + Tag(13, 4), "a group (wire type 3) at byte 6"},
      {head + Tag(13, 4), "a group (wire type 4) at byte 6"},
      {head + Tag(13, 6), "wire type 6 at byte 6"},
      {head + Tag(0, 2) + Varint(0), "a tag of field number 0 at byte 6"},
      {head + Varint(uint64_t{1} << 32 | 2), "a tag of field number 536870912 at byte 6"},
  };
  for (const Case &c : cases) {
    FlightDataView view;
    EXPECT_EQ(Scan(c.bytes, &view), "the message is not a valid FlightData: " + c.error)
        << testing::PrintToString(c.bytes);
    // Cut anywhere, the same bytes say the same.
    for (size_t cut = 0; cut <= c.bytes.size(); ++cut) {
      EXPECT_EQ(ScanFlightData(CutAt(c.bytes, {cut}), &view),
                "the message is not a valid FlightData: " + c.error);
    }
  }
}

TEST(FlightDataView, AStraddlingHeaderIsPutTogetherAndTheViewIsReused) {
  const std::string bytes = Delimited(2, "0123456789") + Delimited(3, "abcdef");
  FlightDataView view;
  ASSERT_EQ(ScanFlightData(CutAt(bytes, {5, 16}), &view), "");
  EXPECT_EQ(view.data_header, "0123456789");
  EXPECT_EQ(view.app_metadata, "abcdef");
  EXPECT_EQ(view.data_header.data(), view.header_copy.data());
  EXPECT_EQ(view.app_metadata.data(), view.metadata_copy.data());
  // A second message in one piece: views of it, nothing left of the first.
  const std::string second = Delimited(1000, "xyz");
  ASSERT_EQ(Scan(second, &view), "");
  EXPECT_TRUE(view.data_header.empty());
  EXPECT_TRUE(view.app_metadata.empty());
  EXPECT_EQ(Joined(view.data_body), "xyz");
}

}  // namespace
}  // namespace zerobus::server
