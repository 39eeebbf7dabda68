#include "core/endpoint.h"

#include <charconv>

#include "table/value_checks.h"

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

Status BadUrl(std::string_view what, std::string_view text, const char *why) {
  return Status(StatusCode::kInvalidTarget, "invalid " + std::string(what) + " '" +
                                                std::string(text) + "': " + std::string(why));
}

}  // namespace

std::string HostPort(const std::string &host, int port) {
  const bool ipv6 = host.find(':') != std::string::npos;
  return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string Endpoint::base_url() const {
  return (tls ? "https://" : "http://") + target();
}

Status ParseUrl(std::string_view text, std::string_view what, ParsedUrl *out) {
  ParsedUrl url;
  std::string_view rest = text;
  if (ConsumePrefix(&rest, "http://")) {
    url.scheme = ParsedUrl::Scheme::kHttp;
  } else if (ConsumePrefix(&rest, "https://")) {
    url.scheme = ParsedUrl::Scheme::kHttps;
  }
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find_first_of("/?#@") != std::string_view::npos) {
    return BadUrl(what, text, "expected a host and an optional port, without a path");
  }
  std::string_view host = rest, port;
  if (!rest.empty() && rest.front() == '[') {
    const size_t close = rest.find(']');
    if (close == std::string_view::npos) return BadUrl(what, text, "unclosed '['");
    host = rest.substr(1, close - 1);
    std::string_view after = rest.substr(close + 1);
    if (!after.empty() && !ConsumePrefix(&after, ":")) return BadUrl(what, text, "junk after ']'");
    port = after;
    if (host.empty()) return BadUrl(what, text, "empty host");
  } else {
    const size_t colon = rest.find(':');
    if (colon != std::string_view::npos) {
      host = rest.substr(0, colon);
      port = rest.substr(colon + 1);
      if (port.empty()) return BadUrl(what, text, "empty port");
    }
    if (host.empty()) return BadUrl(what, text, "empty host");
    for (char c : host) {
      if (!IsHostChar(c)) return BadUrl(what, text, "the host has a character hosts cannot have");
    }
    if (host.front() == '.' || host.back() == '.' || host.find("..") != std::string_view::npos) {
      return BadUrl(what, text, "the host has an empty label");
    }
  }
  if (!port.empty()) {
    int value = 0;
    auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || ptr != port.data() + port.size() || value < 1 || value > 65535) {
      return BadUrl(what, text, "the port must be a number from 1 to 65535");
    }
    url.port = value;
  }
  url.host = std::string(host);
  *out = std::move(url);
  return Status::Ok();
}

Status ResolveEndpoint(std::string_view text, std::string_view what, bool plaintext,
                       Endpoint *out) {
  ParsedUrl url;
  Status parsed = ParseUrl(text, what, &url);
  if (!parsed.ok()) return parsed;
  if (url.scheme == ParsedUrl::Scheme::kHttp && !plaintext) {
    return BadUrl(what, text,
                  "http:// is plaintext, which is spoken only when asked for: set "
                  "transport.plaintext=true (for local servers), or use https://");
  }
  if (url.scheme == ParsedUrl::Scheme::kHttps && plaintext) {
    return BadUrl(what, text, "https:// contradicts transport.plaintext=true");
  }
  Endpoint endpoint;
  endpoint.tls = !plaintext;
  endpoint.host = std::move(url.host);
  endpoint.port = url.port != 0 ? url.port : endpoint.tls ? 443 : 80;
  endpoint.workspace_id = endpoint.host.substr(0, endpoint.host.find('.'));
  *out = std::move(endpoint);
  return Status::Ok();
}

Status CheckTableName(std::string_view name) {
  auto invalid = [&](const std::string &why) {
    return Status(
        StatusCode::kInvalidTarget,
        "invalid table name '" + table::Excerpt(name, kMaxTableNamePartBytes) + "': " + why);
  };
  int parts = 0;
  std::string_view rest = name;
  while (true) {
    const size_t dot = rest.find('.');
    const std::string_view part = rest.substr(0, dot);
    if (part.empty()) return invalid("expected three non-empty parts, catalog.schema.table");
    if (part.size() > kMaxTableNamePartBytes) {
      return invalid("a name has at most " + std::to_string(kMaxTableNamePartBytes) +
                     " characters");
    }
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
