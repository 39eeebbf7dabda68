// A graceful close is graceful on the wire (issue 18, point 8): once every record is
// acknowledged, zb_stream_close() half-closes the call (END_STREAM) and waits for the server's
// status; it cancels (RST_STREAM with CANCEL) only when the close's time runs out, and
// zb_stream_destroy() without a close cancels at once. Seen twice: by a server that reads the
// HTTP/2 frames itself (zbtest_hostile_server.h), and by zerobus serve's own statistics and
// log, which tell a half-closed stream from a cancelled one. The client is the public C API.
#include <gtest/gtest.h>
#include <zerobus/zerobus.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "secure_server.h"
#include "server/server.h"
#include "zbtest_hostile_server.h"

namespace zbtest {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
using Ends = HostileServer::ClientEnds;

// Bounds every wait for the server to see what the client did; generous for the sanitizers.
constexpr auto kSeen = 10s;

// Accepts the stream and acknowledges its first request (one record).
std::vector<HostileStep> AcceptAndAckOne() {
  return {AwaitRequests(1), SendMessage(CreatedResponse("hostile-1")), AwaitRequests(2),
          SendMessage(AckResponse(0))};
}

std::vector<HostileStep> Then(std::vector<HostileStep> script,
                              const std::vector<HostileStep> &more) {
  script.insert(script.end(), more.begin(), more.end());
  return script;
}

// How long zb_stream_close() took, in milliseconds; fails the test unless it returned `expected`.
int64_t TimedClose(zb_stream *stream, int32_t timeout_ms, zb_status expected) {
  const Clock::time_point start = Clock::now();
  EXPECT_EQ(zb_stream_close(stream, timeout_ms, nullptr), expected);
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

// A client of `server` with one record sent, and acknowledged unless `acked` is false.
struct Client {
  Client(const HostileServer &server, const Options &options, bool acked = true)
      : sdk(PlaintextSdk(server.endpoint())), opened(OpenJson(sdk.get(), kTable, options)) {
    EXPECT_EQ(opened.status, ZB_OK) << opened.message();
    if (opened.status != ZB_OK) return;
    IngestJson(stream(), 0, 1);
    if (acked) {
      EXPECT_EQ(zb_stream_flush(stream(), 10000, nullptr), ZB_OK);
    }
  }
  zb_stream *stream() const { return opened.stream.get(); }

  zerobus::Sdk sdk;
  Opened opened;
};

// The official client's way: END_STREAM once all is acknowledged, then the server's OK.
TEST(GracefulClose, HalfClosesAndTakesTheServersStatus) {
  HostileServer server(Then(AcceptAndAckOne(), {AwaitHalfClose(), EndWithStatus(0, "")}));
  {
    Client client(server, {}, /*acked=*/false);
    // The server ends the call only after the half-close: without it the close would wait its
    // whole time, and then cancel.
    EXPECT_LT(TimedClose(client.stream(), 10000, ZB_OK), 5000);
    EXPECT_EQ(server.client_ends().half_closes, 1);
  }
  EXPECT_EQ(server.client_ends().cancels, 0);
}

// A server that never sends its status: the close waits the rest of its time, returns what
// the records say (all acknowledged), and cancels the call.
TEST(GracefulClose, CancelsWhenTheServersStatusDoesNotComeInTime) {
  HostileServer server(Then(AcceptAndAckOne(), {AwaitHalfClose()}));
  Client client(server, {});
  const int64_t took = TimedClose(client.stream(), 300, ZB_OK);
  EXPECT_GE(took, 250);
  EXPECT_LT(took, 5000);
  EXPECT_TRUE(server.WaitForClientEnds(Ends{1, 1}, kSeen))
      << server.client_ends().half_closes << " half-closes, " << server.client_ends().cancels
      << " cancels";
}

// Without a time limit on the close, stream.ack.timeout.ms bounds the wait for the status.
TEST(GracefulClose, AnUnboundedCloseWaitsNoLongerThanTheAckTimeout) {
  HostileServer server(Then(AcceptAndAckOne(), {AwaitHalfClose()}));
  Client client(server, {{"stream.ack.timeout.ms", "400"}});
  const int64_t took = TimedClose(client.stream(), ZB_TIMEOUT_INFINITE, ZB_OK);
  EXPECT_GE(took, 350);
  EXPECT_LT(took, 5000);
  EXPECT_TRUE(server.WaitForClientEnds(Ends{1, 1}, kSeen));
}

TEST(GracefulClose, DestroyWithoutCloseCancels) {
  HostileServer server(Then(AcceptAndAckOne(), {AwaitHalfClose(), EndWithStatus(0, "")}));
  Client client(server, {});
  client.opened.stream = zerobus::Stream::adopt(nullptr);  // zb_stream_destroy() of the one it held
  EXPECT_TRUE(server.WaitForClientEnds(Ends{0, 1}, kSeen));
  EXPECT_EQ(server.client_ends().half_closes, 0);
}

// A close whose records are not all acknowledged in time cancels at once, half-closing nothing.
TEST(GracefulClose, ACloseThatTimesOutOnAcksCancels) {
  // Accepts, and acknowledges nothing.
  HostileServer server({AwaitRequests(1), SendMessage(CreatedResponse("hostile-1"))});
  Client client(server, {}, /*acked=*/false);
  TimedClose(client.stream(), 100, ZB_ERR_TIMEOUT);
  EXPECT_TRUE(server.WaitForClientEnds(Ends{0, 1}, kSeen));
  EXPECT_EQ(server.client_ends().half_closes, 0);
}

// zerobus serve's side: its statistics and its log tell a stream the client closed from one
// it cancelled.
class ServeSees : public ::testing::Test {
 protected:
  void SetUp() override {
    zerobus::server::ServerOptions options;
    options.log = [this](const std::string &line) {
      std::lock_guard<std::mutex> lock(mu_);
      lines_.push_back(line);
    };
    std::string error;
    server_ = zerobus::server::Server::Start(std::move(options), &error);
    ASSERT_NE(server_, nullptr) << error;
    sdk_ = PlaintextSdk(server_->endpoint());
  }

  // A stream with 5 records ingested.
  Opened OpenWithRecords() {
    Opened opened = OpenJson(sdk_.get(), kTable, {});
    EXPECT_EQ(opened.status, ZB_OK) << opened.message();
    if (opened.status == ZB_OK) IngestJson(opened.stream.get(), 0, 5);
    return opened;
  }

  // Waits until no stream is open, then checks how the server counted the one that ended, and
  // that its log line about it begins with `line_start`. Returns that line.
  std::string ExpectEnded(bool closed_by_client, const std::string &line_start) {
    EXPECT_TRUE(server_->WaitFor([&] { return server_->total_stats().streams_open == 0; }, kSeen));
    const zerobus::server::TableStats stats = server_->total_stats();
    EXPECT_EQ(stats.streams_closed_by_client, closed_by_client ? 1 : 0);
    EXPECT_EQ(stats.streams_cancelled_by_client, closed_by_client ? 0 : 1);
    EXPECT_EQ(stats.streams_ended_by_server, 0);
    std::lock_guard<std::mutex> lock(mu_);
    EXPECT_EQ(lines_.size(), 2u);
    const std::string line = lines_.size() == 2 ? lines_[1] : "";
    EXPECT_EQ(line.rfind(line_start, 0), 0u) << line;
    return line;
  }

  // Before the server, which may log until it is destroyed.
  std::mutex mu_;
  std::vector<std::string> lines_;
  std::unique_ptr<zerobus::server::Server> server_;
  zerobus::Sdk sdk_ = zerobus::Sdk::adopt(nullptr);
};

TEST_F(ServeSees, AGracefulCloseAsClosedByTheClient) {
  Opened opened = OpenWithRecords();
  EXPECT_EQ(zb_stream_close(opened.stream.get(), 10000, nullptr), ZB_OK);
  const std::string line = ExpectEnded(true, "stream closed: table=main.default.events stream_id=");
  EXPECT_NE(line.find("records=5 status=0"), std::string::npos) << line;
}

TEST_F(ServeSees, DestroyWithoutCloseAsCancelled) {
  Opened opened = OpenWithRecords();
  ASSERT_EQ(zb_stream_flush(opened.stream.get(), 10000, nullptr), ZB_OK);
  opened.stream = zerobus::Stream::adopt(nullptr);  // zb_stream_destroy() of the one it held
  ExpectEnded(false, "stream cancelled: table=main.default.events stream_id=");
}

TEST_F(ServeSees, ACloseThatTimesOutAsCancelled) {
  server_->faults().WithholdAcks(true);
  Opened opened = OpenWithRecords();
  EXPECT_EQ(zb_stream_close(opened.stream.get(), 100, nullptr), ZB_ERR_TIMEOUT);
  ExpectEnded(false, "stream cancelled: table=main.default.events stream_id=");
}

}  // namespace
}  // namespace zbtest
