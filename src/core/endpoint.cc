#include "endpoint.h"

#include <charconv>

namespace zerobus {
namespace {

bool ConsumePrefix(std::string_view *text, std::string_view prefix) {
  if (text->substr(0, prefix.size()) != prefix) return false;
  text->remove_prefix(prefix.size());
  return true;
}

bool IsHostChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_';
}

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

Status BadEndpoint(std::string_view text, const char *why) {
  return Status(ZB_ERR_INVALID_TARGET,
                "invalid endpoint '" + std::string(text) + "': " + std::string(why));
}

}  // namespace

std::string Endpoint::target() const {
  const bool ipv6 = host.find(':') != std::string::npos;
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Status ParseEndpoint(std::string_view text, Endpoint *out) {
  Endpoint endpoint;
  std::string_view rest = text;
  if (ConsumePrefix(&rest, "http://")) {
    endpoint.tls = false;
    endpoint.port = 80;
  } else {
    ConsumePrefix(&rest, "https://");
  }
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find_first_of("/?#@") != std::string_view::npos) {
    return BadEndpoint(text, "expected a host and an optional port, without a path");
  }
  std::string_view host = rest, port;
  if (!rest.empty() && rest.front() == '[') {
    const size_t close = rest.find(']');
    if (close == std::string_view::npos) return BadEndpoint(text, "unclosed '['");
    host = rest.substr(1, close - 1);
    std::string_view after = rest.substr(close + 1);
    if (!after.empty() && !ConsumePrefix(&after, ":")) return BadEndpoint(text, "junk after ']'");
    port = after;
    if (host.empty()) return BadEndpoint(text, "empty host");
  } else {
    const size_t colon = rest.find(':');
    if (colon != std::string_view::npos) {
      host = rest.substr(0, colon);
      port = rest.substr(colon + 1);
      if (port.empty()) return BadEndpoint(text, "empty port");
    }
    if (host.empty()) return BadEndpoint(text, "empty host");
    for (char c : host) {
      if (!IsHostChar(c)) return BadEndpoint(text, "the host has a character hosts cannot have");
    }
  }
  if (!port.empty()) {
    int value = 0;
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || ptr != port.data() + port.size() || value < 1 || value > 65535) {
      return BadEndpoint(text, "the port must be a number from 1 to 65535");
    }
    endpoint.port = value;
  }
  endpoint.host = std::string(host);
  *out = std::move(endpoint);
  return Status::Ok();
}

Status CheckTableName(std::string_view name) {
  auto invalid = [&](const char *why) {
    return Status(ZB_ERR_INVALID_TARGET,
                  "invalid table name '" + std::string(name) + "': " + std::string(why));
  };
  int parts = 0;
  std::string_view rest = name;
  while (true) {
    const size_t dot = rest.find('.');
    const std::string_view part = rest.substr(0, dot);
    if (part.empty()) return invalid("expected three non-empty parts, catalog.schema.table");
    for (char c : part) {
      if (!IsNameChar(c)) return invalid("names have ASCII letters, digits and underscores only");
    }
    ++parts;
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  if (parts != 3) return invalid("expected three non-empty parts, catalog.schema.table");
  return Status::Ok();
}

}  // namespace zerobus
