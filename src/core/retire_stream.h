// RetireStream: ends a persistent stream for good (issue 23; the service marks it in
// development). The server then refuses every resume of it.
#ifndef ZEROBUS_CORE_RETIRE_STREAM_H
#define ZEROBUS_CORE_RETIRE_STREAM_H

#include <memory>
#include <string>

#include "core/config.h"
#include "core/sdk.h"
#include "core/status.h"

namespace zerobus {

// Retires persistent stream `stream_id` of `table_name` with one unary call on the SDK's
// channel, authenticated as a stream of `config` would be, within recovery.timeout.ms. Not
// retried: the caller decides, and the call is idempotent. ZB_ERR_INVALID_TARGET for a
// malformed table name; ZB_ERR_INVALID_ARG for an empty id or credentials as
// zb_stream_new() checks them; ZB_ERR_AUTH; ZB_ERR_TRANSPORT with the gRPC status (NOT_FOUND
// for an id the server does not know for that table), retryable as for a stream.
Status RetireStream(const std::shared_ptr<Sdk> &sdk, const std::string &table_name,
                    const std::string &stream_id, const Config &config);

}  // namespace zerobus

#endif  // ZEROBUS_CORE_RETIRE_STREAM_H
