// Faults per table over real gRPC: random failures replayed from a seed, CloseStreamSignal
// then the end of the call, stalls, the stream lifetime, the admin HTTP endpoint, and
// `zerobus serve --fault --seed`.
#include <signal.h>

#include <chrono>
#include <future>
#include <memory>
#include <string>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "server/server.h"
#include "zbtest_child.h"
#include "zbtest_raw_stream.h"
#include "zbtest_serve.h"

namespace {

using nlohmann::json;
using zbtest::RawStream;
using zerobus::server::FaultPlan;
using zerobus::server::Server;
using zerobus::server::ServerOptions;
using namespace std::chrono_literals;

constexpr char kTable[] = "main.default.events";
constexpr char kOther[] = "main.default.other";

std::unique_ptr<Server> StartServer(ServerOptions options = ServerOptions{}) {
  std::string error;
  std::unique_ptr<Server> server = Server::Start(std::move(options), &error);
  EXPECT_NE(server, nullptr) << error;
  return server;
}

// Requests a fresh stream on `table` gets through before a random failure ends it (or the
// number sent when none fails).
int RequestsBeforeRandomFailure(Server &server, const std::string &table) {
  RawStream stream(server.port());
  EXPECT_NE(stream.Open(zbtest::CreateJson(table)), "");
  for (int i = 0; i < 200; ++i) {
    if (!stream.Write(zbtest::JsonRecord(i, "{}")) || stream.ReadAck() != i) return i;
  }
  return 200;
}

TEST(FaultPlans, RandomFailuresReplayFromTheSeed) {
  auto failures = [](uint64_t seed) {
    ServerOptions options;
    options.seed = seed;
    FaultPlan plan;
    plan.fail_probability = 0.05;
    plan.fail_status = grpc::Status(grpc::StatusCode::UNAVAILABLE, "dice");
    options.faults[kTable] = plan;
    auto server = StartServer(std::move(options));
    std::vector<int> at;
    for (int i = 0; i < 3; ++i) at.push_back(RequestsBeforeRandomFailure(*server, kTable));
    return at;
  };
  const std::vector<int> first = failures(1234);
  EXPECT_EQ(failures(1234), first);
  EXPECT_LT(first[0] + first[1] + first[2], 600) << "at least one stream fails";
}

TEST(FaultPlans, ATablesPlanLeavesOtherTablesAlone) {
  auto server = StartServer();
  FaultPlan plan;
  plan.withhold_acks = true;
  server->faults().Set(kTable, plan);
  RawStream other(server->port());
  ASSERT_NE(other.Open(zbtest::CreateJson(kOther)), "");
  ASSERT_TRUE(other.Write(zbtest::JsonRecord(0, "{}")));
  EXPECT_EQ(other.ReadAck(), 0);

  RawStream held(server->port());
  ASSERT_NE(held.Open(zbtest::CreateJson(kTable)), "");
  ASSERT_TRUE(held.Write(zbtest::JsonRecord(0, "{}")));
  ASSERT_TRUE(server->WaitFor([&] { return server->table_stats(kTable).records == 1; }, 5s));
  server->faults().Clear(kTable);
  EXPECT_EQ(held.ReadAck(), 0);
}

TEST(FaultPlans, CloseStreamSignalThenTheCallEndsWithUnavailable) {
  auto server = StartServer();
  FaultPlan plan;
  plan.close_after_records = 3;
  plan.close_signal_duration = 200ms;
  server->faults().Set(kTable, plan);
  RawStream stream(server->port());
  ASSERT_NE(stream.Open(zbtest::CreateJson(kTable)), "");
  ASSERT_TRUE(stream.Write(zbtest::JsonBatch(0, {"{}", "{}", "{}"})));
  EXPECT_EQ(stream.ReadAck(), 0);
  const auto signalled = std::chrono::steady_clock::now();
  std::optional<zbtest::EphemeralStreamResponse> response = stream.Read();
  ASSERT_TRUE(response && response->has_close_stream_signal());
  EXPECT_EQ(response->close_stream_signal().duration().seconds(), 0);
  EXPECT_EQ(response->close_stream_signal().duration().nanos(), 200000000);
  // Acks still flow until the deadline.
  ASSERT_TRUE(stream.Write(zbtest::JsonRecord(1, "{}")));
  EXPECT_EQ(stream.ReadAck(), 1);
  const grpc::Status status = stream.Finish();
  EXPECT_GE(std::chrono::steady_clock::now() - signalled, 150ms);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_NE(status.error_message().find("Error Code: 6002"), std::string::npos);
}

TEST(FaultPlans, StreamsEndAfterTheirLifetimeWithASignalFirst) {
  ServerOptions options{};
  options.stream_lifetime = 400ms;
  options.close_signal_lead = 150ms;
  auto server = StartServer(std::move(options));
  RawStream stream(server->port());
  const auto opened = std::chrono::steady_clock::now();
  ASSERT_NE(stream.Open(zbtest::CreateJson(kTable)), "");
  std::optional<zbtest::EphemeralStreamResponse> response = stream.Read();
  ASSERT_TRUE(response && response->has_close_stream_signal());
  EXPECT_EQ(response->close_stream_signal().duration().nanos(), 150000000);
  EXPECT_GE(std::chrono::steady_clock::now() - opened, 200ms);
  const grpc::Status status = stream.Finish();
  EXPECT_GE(std::chrono::steady_clock::now() - opened, 350ms);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST(FaultPlans, AStallAnswersNothingUntilLifted) {
  auto server = StartServer();
  server->faults().Stall(true);
  RawStream stream(server->port());
  ASSERT_TRUE(stream.Write(zbtest::CreateJson(kTable)));
  auto created = std::async(std::launch::async, [&] { return stream.Read(); });
  // Holding the stall for a while: nothing may arrive meanwhile.
  EXPECT_EQ(created.wait_for(300ms), std::future_status::timeout);
  server->faults().Stall(false);
  std::optional<zbtest::EphemeralStreamResponse> response = created.get();
  ASSERT_TRUE(response && response->has_create_stream_response());

  server->faults().Stall(true);
  ASSERT_TRUE(stream.Write(zbtest::JsonRecord(0, "{}")));
  ASSERT_TRUE(server->WaitFor([&] { return server->table_stats(kTable).records == 1; }, 5s));
  ASSERT_TRUE(stream.Write(zbtest::JsonRecord(1, "{}")));
  auto ack = std::async(std::launch::async, [&] { return stream.ReadAck(); });
  EXPECT_EQ(ack.wait_for(300ms), std::future_status::timeout);
  EXPECT_EQ(server->table_stats(kTable).records, 1) << "a stalled stream reads nothing more";
  server->faults().Stall(false);
  EXPECT_TRUE(ack.get().has_value());
  ASSERT_TRUE(server->WaitFor([&] { return server->table_stats(kTable).records == 2; }, 5s));
}

TEST(FaultPlans, TheAdminEndpointSetsListsAndClearsPlans) {
  ServerOptions options{};
  options.admin_port = 0;
  options.seed = 99;
  auto server = StartServer(std::move(options));
  ASSERT_GT(server->admin_port(), 0);
  httplib::Client admin("127.0.0.1", server->admin_port());
  admin.set_read_timeout(5, 0);

  auto put =
      admin.Put("/admin/faults/main.default.events",
                R"({"refuse_streams":1,"refuse_status":"PERMISSION_DENIED"})", "application/json");
  ASSERT_TRUE(put);
  EXPECT_EQ(put->status, 200) << put->body;
  auto get = admin.Get("/admin/faults");
  ASSERT_TRUE(get);
  EXPECT_EQ(json::parse(get->body)["seed"], 99);
  EXPECT_EQ(json::parse(get->body)["plans"][kTable]["refuse_status"], "PERMISSION_DENIED");

  RawStream refused(server->port());
  refused.Write(zbtest::CreateJson(kTable));
  EXPECT_EQ(refused.Finish().error_code(), grpc::StatusCode::PERMISSION_DENIED);
  RawStream accepted(server->port());
  EXPECT_NE(accepted.Open(zbtest::CreateJson(kTable)), "");

  auto bad = admin.Put("/admin/faults/*", R"({"stall":"yes"})", "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_NE(bad->body.find("bad value"), std::string::npos);

  ASSERT_TRUE(admin.Delete("/admin/faults/*"));
  EXPECT_EQ(json::parse(admin.Get("/admin/faults")->body)["plans"], json::object());
  auto stats = admin.Get("/admin/stats");
  ASSERT_TRUE(stats);
  EXPECT_EQ(json::parse(stats->body)["tables"][kTable]["streams_opened"], 1);
}

TEST(FaultPlans, ServeTakesFaultsAndSeedFromFlagsAndAnnouncesTheAdminEndpoint) {
  zbtest::Serve serve({ZEROBUS_CLI, "serve", "--listen", "127.0.0.1:0", "--null-sink", "--seed",
                       "77", "--admin-listen", "127.0.0.1:0", "--fault",
                       std::string(kTable) + ":refuse_streams=1,refuse_status=NOT_FOUND"});
  ASSERT_GT(serve.port("grpc"), 0);
  ASSERT_GT(serve.port("admin"), 0);
  std::string admin_line;
  for (int i = 0; i < 6 && admin_line.find("admin on") == std::string::npos; ++i) {
    admin_line = serve.child().ReadLine(10s);
  }
  EXPECT_NE(admin_line.find("admin on " + serve.url("admin") + " "), std::string::npos)
      << admin_line;
  EXPECT_NE(admin_line.find("seed 77"), std::string::npos) << admin_line;

  RawStream refused(serve.port("grpc"));
  refused.Write(zbtest::CreateJson(kTable));
  EXPECT_EQ(refused.Finish().error_code(), grpc::StatusCode::NOT_FOUND);

  httplib::Client admin("127.0.0.1", serve.port("admin"));
  auto get = admin.Get("/admin/faults");
  ASSERT_TRUE(get);
  EXPECT_EQ(json::parse(get->body)["seed"], 77);
  kill(serve.child().pid(), SIGTERM);
  EXPECT_EQ(serve.child().Wait(10s), 0);
}

}  // namespace

namespace {

// How long the server takes to acknowledge `requests` pipelined requests of `batch` records of
// `record` each.
std::chrono::milliseconds TimeToAck(Server &server, int requests, int batch,
                                    const std::string &record) {
  RawStream stream(server.port(), 30s);
  EXPECT_NE(stream.Open(zbtest::CreateJson(kTable)), "");
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < requests; ++i) {
    EXPECT_TRUE(stream.Write(zbtest::JsonBatch(i, std::vector<std::string>(batch, record))));
  }
  std::optional<int64_t> ack;
  while ((ack = stream.ReadAck()) && *ack < requests - 1) {
  }
  EXPECT_EQ(ack, requests - 1);
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               start);
}

TEST(StreamLimits, AStreamIsSlowedToItsRowRate) {
  ServerOptions options{};
  options.max_rows_per_second = 5000;
  auto server = StartServer(std::move(options));
  // 3000 rows at 5000 rows/s: at least 0.6 s, less the first request's share.
  EXPECT_GE(TimeToAck(*server, 6, 500, "{}"), 450ms);
}

TEST(StreamLimits, AStreamIsSlowedToItsByteRate) {
  ServerOptions options{};
  options.max_bytes_per_second = 100000;
  auto server = StartServer(std::move(options));
  const std::string record = "{\"p\":\"" + std::string(994, 'x') + "\"}";
  // About 60 kB at 100 kB/s.
  EXPECT_GE(TimeToAck(*server, 6, 10, record), 450ms);
}

TEST(StreamLimits, WithoutLimitsTheSameLoadIsQuick) {
  auto server = StartServer();
  EXPECT_LT(TimeToAck(*server, 6, 500, "{}"), 450ms);
}

}  // namespace

namespace {

TEST(StreamLimits, ServeTakesTheLifetimeAndRatesFromFlags) {
  zbtest::Serve serve({ZEROBUS_CLI, "serve", "--listen", "127.0.0.1:0", "--null-sink",
                       "--stream-lifetime", "300ms", "--close-signal-lead", "100ms",
                       "--max-rows-per-second", "15000", "--max-bytes-per-second", "100000000"});
  ASSERT_GT(serve.port("grpc"), 0);
  RawStream stream(serve.port("grpc"));
  ASSERT_NE(stream.Open(zbtest::CreateJson(kTable)), "");
  std::optional<zbtest::EphemeralStreamResponse> response = stream.Read();
  ASSERT_TRUE(response && response->has_close_stream_signal());
  EXPECT_EQ(response->close_stream_signal().duration().nanos(), 100000000);
  EXPECT_EQ(stream.Finish().error_code(), grpc::StatusCode::UNAVAILABLE);

  zbtest::Child bad({ZEROBUS_CLI, "serve", "--stream-lifetime", "soon"});
  EXPECT_EQ(bad.Wait(10s), 2);
}

}  // namespace
