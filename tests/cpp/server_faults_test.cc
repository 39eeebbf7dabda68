// Faults switched on while calls run, the null sink, logging and shutdown, over real gRPC.
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "server/server.h"
#include "zbtest_raw_stream.h"

namespace {

using zbtest::RawStream;
using zerobus::server::Server;
using zerobus::server::ServerOptions;
using namespace std::chrono_literals;

constexpr char kTable[] = "main.default.events";

class FaultsTest : public ::testing::Test {
 protected:
  void Start(ServerOptions options = ServerOptions{}) {
    std::string error;
    server_ = Server::Start(std::move(options), &error);
    ASSERT_NE(server_, nullptr) << error;
  }

  void SetUp() override { Start(); }

  std::unique_ptr<RawStream> OpenJson() {
    auto stream = std::make_unique<RawStream>(server_->port());
    EXPECT_NE(stream->Open(zbtest::CreateJson(kTable)), "");
    return stream;
  }

  bool WaitForRecords(int64_t count) {
    return server_->WaitFor([&] { return server_->table_stats(kTable).records >= count; }, 5s);
  }

  std::unique_ptr<Server> server_;
};

TEST_F(FaultsTest, WithheldAcksGoOutAsOneCumulativeAckWhenReleased) {
  auto stream = OpenJson();
  server_->faults().WithholdAcks(true);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(stream->Write(zbtest::JsonRecord(i, "{}")));
  ASSERT_TRUE(WaitForRecords(5));

  server_->faults().WithholdAcks(false);
  // Had any ack escaped while withheld, the first one read would be 0.
  EXPECT_EQ(stream->ReadAck(), 4);

  ASSERT_TRUE(stream->Write(zbtest::JsonRecord(5, "{}")));
  EXPECT_EQ(stream->ReadAck(), 5);
}

TEST_F(FaultsTest, WithholdingAppliesToStreamsOpenedWhileItIsOn) {
  server_->faults().WithholdAcks(true);
  auto stream = OpenJson();  // the create_stream response is not an ack
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(stream->Write(zbtest::JsonRecord(i, "{}")));
  ASSERT_TRUE(WaitForRecords(3));
  server_->faults().WithholdAcks(false);
  EXPECT_EQ(stream->ReadAck(), 2);
}

TEST_F(FaultsTest, DelayedAcksWaitTheirDelay) {
  auto stream = OpenJson();
  server_->faults().DelayAcks(300ms);
  const auto sent = std::chrono::steady_clock::now();
  ASSERT_TRUE(stream->Write(zbtest::JsonRecord(0, "{}")));
  EXPECT_EQ(stream->ReadAck(), 0);
  EXPECT_GE(std::chrono::steady_clock::now() - sent, 300ms);
}

TEST_F(FaultsTest, ShorteningTheDelayReleasesPendingAcks) {
  auto stream = OpenJson();
  server_->faults().DelayAcks(1h);
  ASSERT_TRUE(stream->Write(zbtest::JsonRecord(0, "{}")));
  ASSERT_TRUE(stream->Write(zbtest::JsonRecord(1, "{}")));
  ASSERT_TRUE(WaitForRecords(2));
  server_->faults().DelayAcks(0ms);
  EXPECT_EQ(stream->ReadAck(), 1);
}

TEST_F(FaultsTest, FailAfterEndsTheCallThatGoesPastTheBudgetOnce) {
  server_->faults().FailAfterRecords(3, grpc::Status(grpc::StatusCode::UNAVAILABLE, "injected"));
  auto stream = OpenJson();
  ASSERT_TRUE(stream->Write(zbtest::JsonBatch(0, {"{\"n\":0}", "{\"n\":1}"})));
  EXPECT_EQ(stream->ReadAck(), 0);
  ASSERT_TRUE(stream->Write(zbtest::JsonRecord(1, "{\"n\":2}")));
  EXPECT_EQ(stream->ReadAck(), 1);
  stream->Write(zbtest::JsonRecord(2, "{\"n\":3}"));
  grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(status.error_message(), "injected");
  EXPECT_EQ(server_->rows().Count(kTable), 3);

  auto next = OpenJson();
  ASSERT_TRUE(next->Write(zbtest::JsonRecord(0, "{\"n\":4}")));
  EXPECT_EQ(next->ReadAck(), 0) << "the fault fires once";
}

TEST_F(FaultsTest, FailAfterCountsRecordsOverAllCalls) {
  auto first = OpenJson();
  auto second = OpenJson();
  server_->faults().FailAfterRecords(2, grpc::Status(grpc::StatusCode::INTERNAL, "enough"));
  ASSERT_TRUE(first->Write(zbtest::JsonRecord(0, "{}")));
  EXPECT_EQ(first->ReadAck(), 0);
  ASSERT_TRUE(second->Write(zbtest::JsonRecord(0, "{}")));
  EXPECT_EQ(second->ReadAck(), 0);
  first->Write(zbtest::JsonRecord(1, "{}"));
  EXPECT_EQ(first->Finish().error_code(), grpc::StatusCode::INTERNAL);
  ASSERT_TRUE(second->Write(zbtest::JsonRecord(1, "{}")));
  EXPECT_EQ(second->ReadAck(), 1);
}

TEST_F(FaultsTest, AcksAlreadyDueGoOutBeforeTheFailure) {
  server_->faults().FailAfterRecords(1, grpc::Status(grpc::StatusCode::UNAVAILABLE, "x"));
  auto stream = OpenJson();
  ASSERT_TRUE(stream->Write(zbtest::JsonRecord(0, "{}")));
  stream->Write(zbtest::JsonRecord(1, "{}"));
  EXPECT_EQ(stream->ReadAck(), 0);
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(FaultsTest, RefusedStreamsGetTheGivenStatusUntilTheCountRunsOut) {
  server_->faults().RefuseStreams(grpc::Status(grpc::StatusCode::UNAVAILABLE, "busy"), 2);
  for (int i = 0; i < 2; ++i) {
    RawStream stream(server_->port());
    stream.Write(zbtest::CreateJson(kTable));
    grpc::Status status = stream.Finish();
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
    EXPECT_EQ(status.error_message(), "busy");
  }
  auto stream = OpenJson();
  ASSERT_TRUE(stream->Write(zbtest::JsonRecord(0, "{}")));
  EXPECT_EQ(stream->ReadAck(), 0);
  EXPECT_EQ(server_->total_stats().streams_opened, 1);
}

TEST_F(FaultsTest, RefusingWithoutACountLastsUntilCleared) {
  server_->faults().RefuseStreams(grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "no"), -1);
  for (int i = 0; i < 3; ++i) {
    RawStream stream(server_->port());
    stream.Write(zbtest::CreateJson(kTable));
    EXPECT_EQ(stream.Finish().error_code(), grpc::StatusCode::PERMISSION_DENIED);
  }
  server_->faults().Clear();
  OpenJson();
  EXPECT_EQ(server_->total_stats().streams_opened, 1);
}

TEST_F(FaultsTest, NullSinkAcksAndCountsButStoresNothing) {
  ServerOptions options;
  options.null_sink = true;
  Start(options);
  auto stream = OpenJson();
  ASSERT_TRUE(stream->Write(zbtest::JsonRecord(0, "{}")));
  ASSERT_TRUE(stream->Write(zbtest::JsonBatch(1, {"{}", "{}", "{}"})));
  int64_t last = -1;
  while (last < 1) {
    std::optional<int64_t> ack = stream->ReadAck();
    ASSERT_TRUE(ack.has_value());
    last = *ack;
  }
  EXPECT_EQ(server_->rows().Count(kTable), 0);
  EXPECT_EQ(server_->table_stats(kTable).records, 4);
  EXPECT_EQ(server_->table_stats(kTable).requests, 2);
}

TEST_F(FaultsTest, StopIsPromptWithOpenCallsAndWithheldAcks) {
  auto stream = OpenJson();
  server_->faults().WithholdAcks(true);
  server_->faults().DelayAcks(1h);
  ASSERT_TRUE(stream->Write(zbtest::JsonRecord(0, "{}")));
  ASSERT_TRUE(WaitForRecords(1));

  const auto start = std::chrono::steady_clock::now();
  server_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_FALSE(stream->Read().has_value());
  EXPECT_FALSE(stream->Finish().ok());
}

TEST_F(FaultsTest, LogsAStreamOpenedAndClosedLine) {
  auto lines = std::make_shared<std::vector<std::string>>();
  auto mu = std::make_shared<std::mutex>();
  ServerOptions options;
  options.log = [lines, mu](const std::string &line) {
    std::lock_guard<std::mutex> lock(*mu);
    lines->push_back(line);
  };
  Start(options);

  auto stream = OpenJson();
  ASSERT_TRUE(stream->Write(zbtest::JsonBatch(0, {"{}", "{}"})));
  EXPECT_EQ(stream->ReadAck(), 0);
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
  ASSERT_TRUE(server_->WaitFor([&] { return server_->total_stats().streams_open == 0; }, 5s));

  std::lock_guard<std::mutex> lock(*mu);
  ASSERT_EQ(lines->size(), 2u);
  EXPECT_EQ((*lines)[0].rfind("stream opened: table=main.default.events stream_id=", 0), 0u)
      << (*lines)[0];
  EXPECT_EQ((*lines)[1].rfind("stream closed: table=main.default.events stream_id=", 0), 0u)
      << (*lines)[1];
  EXPECT_NE((*lines)[1].find("records=2"), std::string::npos) << (*lines)[1];
}

}  // namespace
