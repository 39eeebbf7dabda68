// How the library names itself to the service (reference/official-3x.md §5): the user-agent of
// every gRPC call and of every workspace request, by which the service attributes traffic.
#ifndef ZEROBUS_CORE_USER_AGENT_H
#define ZEROBUS_CORE_USER_AGENT_H

#include <string>
#include <string_view>

#include "core/version.h"

namespace zerobus {

// "libzerobus/<version>", then `application_name` (sdk.application.name, already checked to be
// a header value) after a space when it is not empty. gRPC appends its own name to it.
inline std::string UserAgent(std::string_view application_name) {
  std::string agent = std::string("libzerobus/") + kVersionString;
  if (!application_name.empty()) agent.append(" ").append(application_name);
  return agent;
}

}  // namespace zerobus

#endif  // ZEROBUS_CORE_USER_AGENT_H
