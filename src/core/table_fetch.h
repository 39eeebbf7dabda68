// A table's description from the workspace's Unity Catalog REST API
// (GET /api/2.1/unity-catalog/tables/{full_name}, zerobus-service.md §5), requested with the
// credentials a stream of the table would use.
#ifndef ZEROBUS_CORE_TABLE_FETCH_H
#define ZEROBUS_CORE_TABLE_FETCH_H

#include <string>
#include <string_view>

#include "core/config.h"
#include "core/sdk.h"
#include "core/status.h"

namespace zerobus {

// The TableInfo JSON of `table` from the SDK's workspace.url, through the SDK's trust and
// proxy. Credentials from `config`: with auth.client.id and auth.client.secret, a workspace
// token (scope all-apis, no Zerobus resource, as the API wants it) is requested first; with
// auth.token, that token is sent; with neither, nothing (a local server without --auth).
// Errors: ZB_ERR_INVALID_ARG without workspace.url or with half a client credential;
// ZB_ERR_INVALID_TARGET for a malformed table name or a table the workspace does not have;
// ZB_ERR_AUTH for a refused token request or a 401/403, with the server's message;
// ZB_ERR_TRANSPORT, retryable, when the workspace cannot be reached or answers 5xx.
Status FetchTableInfo(const Sdk &sdk, std::string_view table, const Config &config,
                      std::string *json);

}  // namespace zerobus

#endif  // ZEROBUS_CORE_TABLE_FETCH_H
