// Fault plans as JSON, the admin endpoint's language, and as `zerobus serve --fault` flags:
//
//   {"fail_after_records": 100, "fail_probability": 0.01, "fail_status": "UNAVAILABLE",
//    "fail_message": "...", "ack_delay_ms": 50, "withhold_acks": true, "stall": false,
//    "close_after_records": 1000, "close_signal_ms": 5000, "refuse_streams": 3,
//    "refuse_status": "PERMISSION_DENIED", "refuse_message": "..."}
//
//   --fault 'main.default.events:fail_after_records=100,fail_status=UNAVAILABLE'
//
// Every key is optional (absent means off); statuses are gRPC code names or numbers.
#ifndef ZEROBUS_SERVER_FAULT_PLAN_JSON_H
#define ZEROBUS_SERVER_FAULT_PLAN_JSON_H

#include <string>

#include <nlohmann/json.hpp>

#include "server/faults.h"

namespace zerobus::server {

nlohmann::json FaultPlanToJson(const FaultPlan &plan);

// False with the reason in `*error` for unknown keys and bad values.
bool FaultPlanFromJson(const nlohmann::json &json, FaultPlan *plan, std::string *error);

// TABLE:key=value,... where TABLE is a table or "*" for every table.
bool ParseFaultFlag(const std::string &flag, std::string *table, FaultPlan *plan,
                    std::string *error);

}  // namespace zerobus::server

#endif  // ZEROBUS_SERVER_FAULT_PLAN_JSON_H
