#include "server/fault_plan_json.h"

#include <cctype>

#include "table/json_value.h"
#include "table/value_checks.h"

namespace zerobus::server {
namespace {

using nlohmann::json;

constexpr const char *kCodeNames[] = {
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
};
constexpr int kCodes = sizeof(kCodeNames) / sizeof(kCodeNames[0]);

bool ParseCode(const json &value, grpc::StatusCode *code) {
  if (value.is_number_integer()) {
    const int number = value.get<int>();
    if (number < 1 || number >= kCodes) return false;
    *code = static_cast<grpc::StatusCode>(number);
    return true;
  }
  if (!value.is_string()) return false;
  std::string name = value.get<std::string>();
  for (char &c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (int i = 1; i < kCodes; ++i) {
    if (name == kCodeNames[i]) {
      *code = static_cast<grpc::StatusCode>(i);
      return true;
    }
  }
  return false;
}

bool ReadCount(const json &value, int64_t min, int64_t *out) {
  if (!value.is_number_integer() || value.get<int64_t>() < min) return false;
  *out = value.get<int64_t>();
  return true;
}

// A flag's value: a number, true/false, or else a string.
json FlagValue(const std::string &text) {
  if (text == "true") return true;
  if (text == "false") return false;
  json number;
  std::string ignored;
  if (table::ParseJson(text, &number, &ignored) && number.is_number()) return number;
  return text;
}

}  // namespace

json FaultPlanToJson(const FaultPlan &plan) {
  json out = json::object();
  if (plan.fail_after_records) out["fail_after_records"] = *plan.fail_after_records;
  if (plan.fail_probability > 0) out["fail_probability"] = plan.fail_probability;
  if (plan.fail_streams_after_records) {
    out["fail_streams_after_records"] = *plan.fail_streams_after_records;
  }
  if (plan.fail_after_records || plan.fail_probability > 0 || plan.fail_streams_after_records) {
    out["fail_status"] = kCodeNames[plan.fail_status.error_code()];
    out["fail_message"] = plan.fail_status.error_message();
  }
  if (plan.ack_delay.count() > 0) out["ack_delay_ms"] = plan.ack_delay.count();
  if (plan.withhold_acks) out["withhold_acks"] = true;
  if (plan.repeat_stale_ack.count() > 0) {
    out["repeat_stale_ack_ms"] = plan.repeat_stale_ack.count();
  }
  if (plan.stall) out["stall"] = true;
  if (plan.close_after_records) {
    out["close_after_records"] = *plan.close_after_records;
    out["close_signal_ms"] = plan.close_signal_duration.count();
  }
  if (plan.refuse_streams != 0) {
    out["refuse_streams"] = plan.refuse_streams;
    out["refuse_status"] = kCodeNames[plan.refuse_status.error_code()];
    out["refuse_message"] = plan.refuse_status.error_message();
  }
  return out;
}

bool FaultPlanFromJson(const json &in, FaultPlan *plan, std::string *error) {
  if (!in.is_object()) {
    *error = "a fault plan is a JSON object";
    return false;
  }
  FaultPlan result;
  grpc::StatusCode fail_code = result.fail_status.error_code();
  std::string fail_message = result.fail_status.error_message();
  grpc::StatusCode refuse_code = result.refuse_status.error_code();
  std::string refuse_message = result.refuse_status.error_message();
  for (const auto &item : in.items()) {
    const std::string &key = item.key();
    const json &value = item.value();
    int64_t count = 0;
    bool ok = true;
    if (key == "fail_after_records") {
      ok = ReadCount(value, 0, &count);
      result.fail_after_records = count;
    } else if (key == "fail_streams_after_records") {
      ok = ReadCount(value, 0, &count);
      result.fail_streams_after_records = count;
    } else if (key == "repeat_stale_ack_ms") {
      ok = ReadCount(value, 0, &count);
      result.repeat_stale_ack = std::chrono::milliseconds(count);
    } else if (key == "fail_probability") {
      ok = value.is_number() && value.get<double>() >= 0 && value.get<double>() <= 1;
      if (ok) result.fail_probability = value.get<double>();
    } else if (key == "fail_status") {
      ok = ParseCode(value, &fail_code);
    } else if (key == "fail_message") {
      ok = value.is_string();
      if (ok) fail_message = value.get<std::string>();
    } else if (key == "ack_delay_ms") {
      ok = ReadCount(value, 0, &count);
      result.ack_delay = std::chrono::milliseconds(count);
    } else if (key == "withhold_acks" || key == "stall") {
      ok = value.is_boolean();
      if (ok) (key == "stall" ? result.stall : result.withhold_acks) = value.get<bool>();
    } else if (key == "close_after_records") {
      ok = ReadCount(value, 0, &count);
      result.close_after_records = count;
    } else if (key == "close_signal_ms") {
      ok = ReadCount(value, 0, &count);
      result.close_signal_duration = std::chrono::milliseconds(count);
    } else if (key == "refuse_streams") {
      ok = ReadCount(value, -1, &count);
      result.refuse_streams = count;
    } else if (key == "refuse_status") {
      ok = ParseCode(value, &refuse_code);
    } else if (key == "refuse_message") {
      ok = value.is_string();
      if (ok) refuse_message = value.get<std::string>();
    } else {
      *error = "unknown fault '" + table::Excerpt(key) + "'";
      return false;
    }
    if (!ok) {
      *error = "bad value for fault '" + key + "', " + table::DescribeJson(value);
      return false;
    }
  }
  result.fail_status = grpc::Status(fail_code, fail_message);
  result.refuse_status = grpc::Status(refuse_code, refuse_message);
  *plan = result;
  return true;
}

bool ParseFaultFlag(const std::string &flag, std::string *table, FaultPlan *plan,
                    std::string *error) {
  const size_t colon = flag.find(':');
  if (colon == std::string::npos || colon == 0) {
    *error =
        "--fault wants TABLE:key=value,... (TABLE may be *), got '" + table::Excerpt(flag) + "'";
    return false;
  }
  *table = flag.substr(0, colon);
  json settings = json::object();
  size_t start = colon + 1;
  while (start < flag.size()) {
    size_t end = flag.find(',', start);
    if (end == std::string::npos) end = flag.size();
    const std::string pair = flag.substr(start, end - start);
    const size_t equals = pair.find('=');
    if (equals == std::string::npos || equals == 0) {
      *error = "--fault: '" + table::Excerpt(pair) + "' is not key=value";
      return false;
    }
    settings[pair.substr(0, equals)] = FlagValue(pair.substr(equals + 1));
    start = end + 1;
  }
  return FaultPlanFromJson(settings, plan, error);
}

}  // namespace zerobus::server
