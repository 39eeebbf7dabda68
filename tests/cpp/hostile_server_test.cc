// What the client makes of a server that sends what no honest server sends (issue 17, points
// 3, 7, 8 and 15): absurd durations and statuses, responses over the receive limit, a stalled
// server at destroy, and UNAVAILABLE from a server that speaks plaintext. The server is
// zbtest_hostile_server.h, over real HTTP/2 on loopback; the client is the public C API. The
// sanitizer build runs these under ASan and UBSan, which abort on any undefined behaviour.
#include <gtest/gtest.h>
#include <zerobus/zerobus.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "secure_server.h"
#include "zbtest_hostile_server.h"

namespace zbtest {
namespace {

constexpr int32_t kUnknown = 2;  // gRPC's UNKNOWN
constexpr int64_t kMiB = 1 << 20;

// How much the peak resident memory may grow while a server streams a 1 GiB response: the
// SDK's 32 MiB for responses and what gRPC and the allocator keep around them, four times that
// under AddressSanitizer (redzones, shadow and the quarantine of freed buffers). Far under the
// GiB a client holding the response would reach.
#ifdef __SANITIZE_ADDRESS__
constexpr int64_t kPeakGrowthBound = 384 * kMiB;
#else
constexpr int64_t kPeakGrowthBound = 96 * kMiB;
#endif

// Whether the SDKs run on the library's own HTTP/2 client (all but ctest's hostile.grpc. tests).
bool Http2Engine() {
  return TestEngine() == "http2";
}

bool Contains(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

zb_stream_state State(zb_stream *stream) {
  zb_stream_info info = ZB_STREAM_INFO_INIT;
  EXPECT_EQ(zb_stream_get_info(stream, &info, nullptr), ZB_OK);
  return info.state;
}

// Waits (bounded) until the stream reports `state`.
bool WaitForState(zb_stream *stream, zb_stream_state state) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (State(stream) != state && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return State(stream) == state;
}

// What a flush that fails reports.
struct Failure {
  zb_status status = ZB_OK;
  int32_t grpc_status = -1;
  bool retryable = false;
  std::string message;
};

Failure Flush(zb_stream *stream, int32_t timeout_ms) {
  zb_error *error = nullptr;
  Failure failure;
  failure.status = zb_stream_flush(stream, timeout_ms, &error);
  if (error) {
    failure.grpc_status = zb_error_grpc_status(error);
    failure.retryable = zb_error_is_retryable(error);
    failure.message = zb_error_message(error);
  }
  zb_error_free(error);
  return failure;
}

// The process's peak resident memory so far (VmHWM), in bytes.
int64_t PeakResidentBytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
  }
  ADD_FAILURE() << "no VmHWM in /proc/self/status";
  return 0;
}

TEST(Hostile, AStatusOutsideGrpcsRangeIsUnknown) {
  for (uint32_t status : {99u, 17u, 100000u}) {
    HostileServer server({EndWithStatus(status, "no such status")});
    zerobus::Sdk sdk = PlaintextSdk(server.endpoint());
    Opened opened = OpenJson(sdk.get(), kTable, {{"recovery.retries", "0"}});
    ASSERT_EQ(opened.status, ZB_ERR_TRANSPORT) << opened.message();
    EXPECT_EQ(opened.error.grpc_status(), kUnknown) << opened.message();
    EXPECT_TRUE(Contains(opened.message(), "UNKNOWN: no such status")) << opened.message();
    // UNKNOWN is worth another connection, as any code the service does not call final.
    EXPECT_TRUE(opened.error.retryable());
  }
}

// A close signal's duration goes through the decoder's clamp: INT64_MAX seconds, ten years and
// negative durations pause the stream (or end the pause at once) without an overflow anywhere.
TEST(Hostile, CloseSignalsOfAbsurdLengthAreNoUndefinedBehaviour) {
  const int64_t ten_years = int64_t{10} * 365 * 24 * 3600;
  struct Case {
    int64_t seconds;
    int32_t nanos;
    bool pauses;
  } cases[] = {
      {std::numeric_limits<int64_t>::max(), 999999999, true},
      {ten_years, 0, true},
      {std::numeric_limits<int64_t>::min(), -999999999, false},
  };
  for (const Case &c : cases) {
    SCOPED_TRACE(std::to_string(c.seconds) + " s");
    // Created; the close signal once a record batch came, so that something waits for an ack.
    HostileServer server({SendMessage(CreatedResponse("s1")), AwaitRequests(2),
                          SendMessage(CloseSignalResponse(c.seconds, c.nanos))});
    zerobus::Sdk sdk = PlaintextSdk(server.endpoint());
    // -1 trusts the server's duration whole: the clamped value reaches the stream's clock.
    Opened opened = OpenJson(sdk.get(), kTable, {{"stream.paused.max.wait.ms", "-1"}});
    ASSERT_EQ(opened.status, ZB_OK) << opened.message();
    IngestJson(opened.stream.get(), 0, 1);
    if (c.pauses) {
      EXPECT_TRUE(WaitForState(opened.stream.get(), ZB_STREAM_PAUSED));
    } else {
      // The pause is over at once: the stream moves to a new call, where the script runs again.
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
      while (server.calls() < 2 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      EXPECT_GE(server.calls(), 2);
    }
    EXPECT_EQ(zb_stream_close(opened.stream.get(), 100, nullptr), ZB_ERR_TIMEOUT);
  }
}

// A response past wire::kMaxResponseBytes (1 MiB) fails the connection with a retryable
// ZB_ERR_PROTOCOL that says so.
TEST(Hostile, AResponseOverTheLimitFailsTheConnection) {
  HostileServer server(
      {SendMessage(CreatedResponse("s1")), AwaitRequests(2), SendOversized(2 * kMiB, 2 * kMiB)});
  zerobus::Sdk sdk = PlaintextSdk(server.endpoint());
  Opened opened = OpenJson(sdk.get(), kTable, {{"recovery.retries", "0"}});
  ASSERT_EQ(opened.status, ZB_OK) << opened.message();
  IngestJson(opened.stream.get(), 0, 1);
  const Failure failure = Flush(opened.stream.get(), 30000);
  EXPECT_EQ(failure.status, ZB_ERR_PROTOCOL) << failure.message;
  EXPECT_TRUE(failure.retryable);
  EXPECT_TRUE(Contains(failure.message, "larger than the 1048576 bytes")) << failure.message;
  // gRPC reads the whole response before it checks its size. The library's own client ends the
  // call once the prefix announces it, so how much the server got out before then is timing.
  if (!Http2Engine()) {
    EXPECT_EQ(server.oversized_bytes_sent(), uint64_t(2 * kMiB));
  }
}

// A server that announces a 1 GiB response and streams it in: gRPC checks the size only once it
// holds the whole message, so what stops it is the memory the SDK's connections may hold
// (32 MiB). Before, the client held all of it (3.2 GB for 1 GiB). The library's own HTTP/2
// client (transport.engine=http2) refuses it as soon as its prefix announces the size.
TEST(Hostile, AStreamedHugeResponseKeepsMemoryBounded) {
  const uint64_t announced = uint64_t{1} << 30;
  HostileServer server(
      {SendMessage(CreatedResponse("s1")), AwaitRequests(2), SendOversized(announced, announced)});
  zerobus::Sdk sdk = PlaintextSdk(server.endpoint());
  Opened opened = OpenJson(sdk.get(), kTable, {{"recovery.retries", "0"}});
  ASSERT_EQ(opened.status, ZB_OK) << opened.message();
  const int64_t peak_before = PeakResidentBytes();
  IngestJson(opened.stream.get(), 0, 1);
  const Failure failure = Flush(opened.stream.get(), 30000);
  const int64_t growth = PeakResidentBytes() - peak_before;
  EXPECT_EQ(failure.status, ZB_ERR_PROTOCOL) << failure.message;
  EXPECT_TRUE(
      Contains(failure.message, Http2Engine() ? "larger than the 1048576 bytes" : "Buffers full"))
      << failure.message;
  EXPECT_LT(server.oversized_bytes_sent(), uint64_t(128 * kMiB));
  EXPECT_LT(growth, kPeakGrowthBound) << "sent " << server.oversized_bytes_sent();
  std::printf("peak resident memory grew by %lld MiB while the server sent %llu MiB\n",
              static_cast<long long>(growth / kMiB),
              static_cast<unsigned long long>(server.oversized_bytes_sent() / kMiB));
}

// The hint about plaintext goes with a failure that looks like a server expecting TLS (it
// closes the connection before any HTTP/2), not with a refused connection nor with UNAVAILABLE
// that a plaintext server answered itself.
TEST(Hostile, ThePlaintextHintComesOnlyWhenTheServerMayExpectTls) {
  const std::string hint = "a server that expects TLS closes such connections";
  auto open = [](const std::string &endpoint) {
    zerobus::Sdk sdk = PlaintextSdk(endpoint);
    return OpenJson(sdk.get(), kTable, {{"recovery.retries", "0"}});
  };
  SecureServer tls;
  Opened to_tls = open("http://" + tls.address());
  EXPECT_EQ(to_tls.status, ZB_ERR_TRANSPORT);
  EXPECT_TRUE(Contains(to_tls.message(), hint)) << to_tls.message();

  HostileServer unavailable({EndWithStatus(14, "overloaded")});
  Opened answered = open(unavailable.endpoint());
  EXPECT_EQ(answered.error.grpc_status(), 14) << answered.message();
  EXPECT_TRUE(Contains(answered.message(), "UNAVAILABLE: overloaded")) << answered.message();
  EXPECT_FALSE(Contains(answered.message(), hint)) << answered.message();

  std::string refused_endpoint;
  {
    HostileServer gone({});
    refused_endpoint = gone.endpoint();
  }
  Opened refused = open(refused_endpoint);
  EXPECT_EQ(refused.error.grpc_status(), 14) << refused.message();
  EXPECT_TRUE(Contains(refused.message(), "Connection refused")) << refused.message();
  EXPECT_FALSE(Contains(refused.message(), hint)) << refused.message();
}

// zb_sdk_destroy() after a server that stalled: gRPC's shutdown used to wait for one of its
// executor threads parked in the backup poller, about 10 s in one run out of 5.
TEST(Hostile, DestroyAfterAStalledServerIsQuick) {
  std::vector<double> seconds;
  for (int run = 0; run < 20; ++run) {
    HostileServer server({});  // takes calls and never answers them
    zerobus::Sdk sdk = PlaintextSdk(server.endpoint());
    Opened opened =
        OpenJson(sdk.get(), kTable, {{"recovery.retries", "0"}, {"recovery.timeout.ms", "200"}});
    EXPECT_EQ(opened.status, ZB_ERR_TRANSPORT) << opened.message();
    const auto start = std::chrono::steady_clock::now();
    sdk = zerobus::Sdk::adopt(nullptr);  // zb_sdk_destroy() of the one it held
    seconds.push_back(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::string figures;
  for (double s : seconds) figures += std::to_string(s).substr(0, 5) + " ";
  std::printf("zb_sdk_destroy() took (s): %s\n", figures.c_str());
  EXPECT_LT(*std::max_element(seconds.begin(), seconds.end()), 2.0) << figures;
}

}  // namespace
}  // namespace zbtest
