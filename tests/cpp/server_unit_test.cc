// The server's small parts on their own: name and request checks, stream ids, the row store,
// fault bookkeeping and the timer.
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <google/protobuf/descriptor.pb.h>
#include <gtest/gtest.h>

#include "server/fault_plan_json.h"
#include "server/faults.h"
#include "server/row_store.h"
#include "server/stream_id.h"
#include "server/timer.h"
#include "server/validation.h"

namespace zerobus::server {
namespace {

using databricks::zerobus::CreateIngestStreamRequest;
using databricks::zerobus::RecordType;

TEST(Validation, AcceptsThreePartNames) {
  for (const char *name : {"a.b.c", "main.default.events", "Cat_1.S2.t_3", "_._._"}) {
    EXPECT_TRUE(CheckTableName(name).ok()) << name;
  }
}

TEST(Validation, RejectsOtherNames) {
  for (const char *name : {"", "a", "a.b", "a.b.c.d", ".b.c", "a..c", "a.b.", "a.b.c-d", "a.b.c d",
                           "a.`b`.c", "a.b.c\n", "caf\xc3\xa9.b.c"}) {
    grpc::Status status = CheckTableName(name);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << name;
  }
}

std::string Descriptor(const std::string &name) {
  google::protobuf::DescriptorProto descriptor;
  descriptor.set_name(name);
  auto *field = descriptor.add_field();
  field->set_name("id");
  field->set_number(1);
  field->set_type(google::protobuf::FieldDescriptorProto::TYPE_INT64);
  return descriptor.SerializeAsString();
}

TEST(Validation, RecordTypeDefaultsToProtoAndProtoNeedsADescriptor) {
  CreateIngestStreamRequest request;
  request.set_table_name("a.b.c");
  RecordType type = RecordType::JSON;
  EXPECT_EQ(CheckCreateStream(request, &type).error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  request.set_descriptor_proto(Descriptor("Event"));
  ASSERT_TRUE(CheckCreateStream(request, &type).ok());
  EXPECT_EQ(type, RecordType::PROTO);
}

TEST(Validation, RejectsDescriptorsThatAreNotDescriptorProtos) {
  CreateIngestStreamRequest request;
  request.set_table_name("a.b.c");
  request.set_record_type(RecordType::PROTO);
  RecordType type;
  for (const std::string &bad : {std::string("\xff\xff\xff", 3), Descriptor("")}) {
    request.set_descriptor_proto(bad);
    EXPECT_EQ(CheckCreateStream(request, &type).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  }
}

TEST(Validation, JsonNeedsNoDescriptorAndUnspecifiedIsRefused) {
  CreateIngestStreamRequest request;
  request.set_table_name("a.b.c");
  request.set_record_type(RecordType::JSON);
  RecordType type = RecordType::PROTO;
  ASSERT_TRUE(CheckCreateStream(request, &type).ok());
  EXPECT_EQ(type, RecordType::JSON);

  request.set_record_type(RecordType::RECORD_TYPE_UNSPECIFIED);
  EXPECT_EQ(CheckCreateStream(request, &type).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

// Text form of a version 4 UUID: 8-4-4-4-12 lowercase hex digits, version 4, variant 10xx.
bool IsUuid4(const std::string &id) {
  if (id.size() != 36 || id[14] != '4' || std::string("89ab").find(id[19]) == std::string::npos) {
    return false;
  }
  for (size_t i = 0; i < id.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    const char c = id[i];
    if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

TEST(StreamId, IsAFreshVersion4Uuid) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string id = NewStreamId();
    ASSERT_TRUE(IsUuid4(id)) << id;
    ASSERT_TRUE(seen.insert(id).second) << "repeated id " << id;
  }
}

TEST(MemoryRowStore, KeepsRecordsPerTableInArrivalOrder) {
  MemoryRowStore store;
  int done = 0;
  auto append = [&](const std::string &table, std::vector<zerobus::server::Record> records) {
    zerobus::server::WriteBatch batch;
    batch.table = table;
    batch.records = std::move(records);
    store.Append(std::move(batch), [&](const std::string &error) {
      EXPECT_EQ(error, "");
      ++done;
    });
  };
  append("a.b.c", {{"one", false}, {"two", false}});
  append("a.b.d", {{"{\"x\":1}", true}});
  append("a.b.c", {{"three", false}});
  EXPECT_EQ(done, 3) << "the memory store is done once Append returns";

  EXPECT_EQ(store.Count("a.b.c"), 3);
  EXPECT_EQ(store.Count("a.b.d"), 1);
  EXPECT_EQ(store.Count("a.b.e"), 0);
  EXPECT_EQ(store.Get("a.b.c", 0)->data, "one");
  EXPECT_EQ(store.Get("a.b.c", 2)->data, "three");
  EXPECT_TRUE(store.Get("a.b.d", 0)->json);
  EXPECT_FALSE(store.Get("a.b.c", 1)->json);
  EXPECT_FALSE(store.Get("a.b.c", 3).has_value());
  EXPECT_FALSE(store.Get("a.b.c", -1).has_value());
  EXPECT_FALSE(store.Get("x.y.z", 0).has_value());
}

// Admits `records` on `table` with a throwaway generator.
std::optional<grpc::Status> Admit(Faults &faults, int64_t records,
                                  const std::string &table = "a.b.c") {
  std::mt19937_64 generator(1);
  return faults.AdmitRecords(table, records, generator);
}

TEST(Faults, FailAfterAdmitsItsBudgetThenFailsOnce) {
  Faults faults(1, [] {});
  EXPECT_FALSE(Admit(faults, 100).has_value()) << "nothing armed";
  faults.FailAfterRecords(5, grpc::Status(grpc::StatusCode::UNAVAILABLE, "boom"));
  EXPECT_FALSE(Admit(faults, 3).has_value());
  EXPECT_FALSE(Admit(faults, 2).has_value());
  std::optional<grpc::Status> failure = Admit(faults, 1);
  ASSERT_TRUE(failure.has_value());
  EXPECT_EQ(failure->error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(failure->error_message(), "boom");
  EXPECT_FALSE(Admit(faults, 1).has_value()) << "one-shot";
}

TEST(Faults, FailAfterRejectsARequestThatWouldCrossTheBudget) {
  Faults faults(1, [] {});
  faults.FailAfterRecords(2, grpc::Status(grpc::StatusCode::INTERNAL, "x"));
  EXPECT_TRUE(Admit(faults, 3).has_value());
}

TEST(Faults, RefusesTheGivenNumberOfStreamsOrUntilCleared) {
  Faults faults(1, [] {});
  EXPECT_FALSE(faults.TakeStreamRefusal("a.b.c").has_value());
  faults.RefuseStreams(grpc::Status(grpc::StatusCode::UNAVAILABLE, "busy"), 2);
  EXPECT_TRUE(faults.TakeStreamRefusal("a.b.c").has_value());
  EXPECT_TRUE(faults.TakeStreamRefusal("x.y.z").has_value());
  EXPECT_FALSE(faults.TakeStreamRefusal("a.b.c").has_value());

  faults.RefuseStreams(grpc::Status(grpc::StatusCode::UNAVAILABLE, "busy"), -1);
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(faults.TakeStreamRefusal("a.b.c").has_value());
  faults.Clear();
  EXPECT_FALSE(faults.TakeStreamRefusal("a.b.c").has_value());
}

TEST(Faults, ChangesAreAnnounced) {
  int announced = 0;
  Faults faults(1, [&] { ++announced; });
  faults.WithholdAcks(true);
  EXPECT_TRUE(faults.Acks("a.b.c").withhold);
  faults.DelayAcks(std::chrono::milliseconds(250));
  EXPECT_EQ(faults.Acks("a.b.c").delay, std::chrono::milliseconds(250));
  EXPECT_TRUE(faults.Acks("a.b.c").withhold) << "a shorthand leaves the other settings alone";
  faults.Clear();
  EXPECT_FALSE(faults.Acks("a.b.c").withhold);
  EXPECT_EQ(faults.Acks("a.b.c").delay, std::chrono::milliseconds(0));
  EXPECT_EQ(announced, 3);
}

TEST(Faults, ATablesOwnPlanReplacesTheDefaultForThatTable) {
  Faults faults(1, [] {});
  faults.WithholdAcks(true);
  zerobus::server::FaultPlan plan;
  plan.ack_delay = std::chrono::milliseconds(5);
  faults.Set("a.b.c", plan);
  EXPECT_FALSE(faults.Acks("a.b.c").withhold);
  EXPECT_EQ(faults.Acks("a.b.c").delay, std::chrono::milliseconds(5));
  EXPECT_TRUE(faults.Acks("x.y.z").withhold);
  faults.Clear("a.b.c");
  EXPECT_TRUE(faults.Acks("a.b.c").withhold);
}

TEST(Faults, RandomFailuresReplayWithTheSameSeed) {
  auto run = [](uint64_t seed) {
    Faults faults(seed, [] {});
    zerobus::server::FaultPlan plan;
    plan.fail_probability = 0.3;
    faults.Set("*", plan);
    std::string outcomes;
    for (int stream = 0; stream < 3; ++stream) {
      std::mt19937_64 generator = faults.NewGenerator("a.b.c");
      for (int i = 0; i < 40; ++i) {
        outcomes += faults.AdmitRecords("a.b.c", 1, generator).has_value() ? 'x' : '.';
      }
    }
    return outcomes;
  };
  const std::string first = run(42);
  EXPECT_EQ(run(42), first);
  EXPECT_NE(run(43), first);
  EXPECT_NE(first.find('x'), std::string::npos);
  EXPECT_NE(first.find('.'), std::string::npos);
}

TEST(FaultPlanJson, FlagsAndJsonDescribeTheSamePlans) {
  std::string table;
  zerobus::server::FaultPlan plan;
  std::string error;
  ASSERT_TRUE(zerobus::server::ParseFaultFlag(
      "main.default.t:fail_after_records=10,fail_status=permission_denied,fail_message=no,"
      "ack_delay_ms=5,withhold_acks=true,close_after_records=3,close_signal_ms=200,"
      "refuse_streams=-1,refuse_status=14,stall=false,fail_probability=0.5",
      &table, &plan, &error))
      << error;
  EXPECT_EQ(table, "main.default.t");
  EXPECT_EQ(zerobus::server::FaultPlanToJson(plan),
            nlohmann::json::parse(R"({"fail_after_records":10,"fail_probability":0.5,
              "fail_status":"PERMISSION_DENIED","fail_message":"no","ack_delay_ms":5,
              "withhold_acks":true,"close_after_records":3,"close_signal_ms":200,
              "refuse_streams":-1,"refuse_status":"UNAVAILABLE",
              "refuse_message":"injected refusal"})"));
  EXPECT_FALSE(zerobus::server::ParseFaultFlag("nocolon", &table, &plan, &error));
  EXPECT_FALSE(zerobus::server::ParseFaultFlag("*:bogus=1", &table, &plan, &error));
  EXPECT_EQ(error, "unknown fault 'bogus'");
  EXPECT_FALSE(zerobus::server::ParseFaultFlag("*:fail_status=NOPE", &table, &plan, &error));
  EXPECT_FALSE(zerobus::server::ParseFaultFlag("*:fail_probability=2", &table, &plan, &error));
  EXPECT_FALSE(zerobus::server::ParseFaultFlag("*:ack_delay_ms=-1", &table, &plan, &error));
}

TEST(Timer, RunsCallbacksInDueOrderNotSchedulingOrder) {
  Timer timer;
  std::mutex mu;
  std::condition_variable done;
  std::vector<int> order;
  const auto now = Timer::Clock::now();
  auto record = [&](int n) {
    return [&, n] {
      std::lock_guard<std::mutex> lock(mu);
      order.push_back(n);
      done.notify_all();
    };
  };
  timer.At(now + std::chrono::milliseconds(60), record(3));
  timer.At(now + std::chrono::milliseconds(20), record(1));
  timer.At(now + std::chrono::milliseconds(20), record(2));
  timer.At(now - std::chrono::milliseconds(5), record(0));

  std::unique_lock<std::mutex> lock(mu);
  ASSERT_TRUE(done.wait_for(lock, std::chrono::seconds(5), [&] { return order.size() == 4; }));
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_GE(Timer::Clock::now() - now, std::chrono::milliseconds(60));
}

}  // namespace
}  // namespace zerobus::server
