#include "core/proxy.h"

#include <algorithm>
#include <cctype>

#include "core/endpoint.h"

namespace zerobus {
namespace {

// The first of `names` set to a non-empty value in `env`, or nullptr.
const char *FirstSet(const Environment &env, std::initializer_list<const char *> names,
                     const char **value) {
  for (const char *name : names) {
    const char *found = env(name);
    if (found && *found) {
      *value = found;
      return name;
    }
  }
  return nullptr;
}

bool ConsumePrefix(std::string_view *text, std::string_view prefix) {
  if (text->substr(0, prefix.size()) != prefix) return false;
  text->remove_prefix(prefix.size());
  return true;
}

std::string_view Trim(std::string_view text) {
  const auto space = [](char c) { return c == ' ' || c == '\t'; };
  while (!text.empty() && space(text.front())) text.remove_prefix(1);
  while (!text.empty() && space(text.back())) text.remove_suffix(1);
  return text;
}

// Host names compare without regard to case.
bool SameHost(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

std::string ProxyUrl::url() const {
  return "http://" + (userinfo.empty() ? "" : userinfo + "@") + HostPort(host, port);
}

Status ParseProxyUrl(std::string_view text, std::string_view what, ProxyUrl *out) {
  // No message quotes the URL, nor any part of it: a malformed one may hold its password
  // where a host was expected ("http://user:secret" without "@host").
  const auto invalid = [what](const char *why) {
    return Status(StatusCode::kInvalidTarget,
                  "invalid proxy URL in " + std::string(what) + ": " + why +
                      " (the URL is not quoted: it may hold a password)");
  };
  std::string_view rest = text;
  if (rest.substr(0, 8) == "https://") {
    return invalid("only http:// proxies are supported (TLS runs inside the tunnel)");
  }
  ConsumePrefix(&rest, "http://");
  if (rest.find("://") != std::string_view::npos) {
    return invalid("only http:// proxies are supported");
  }
  ProxyUrl proxy;
  const size_t at = rest.rfind('@');
  if (at != std::string_view::npos) {
    proxy.userinfo = std::string(rest.substr(0, at));
    rest.remove_prefix(at + 1);
  }
  ParsedUrl address;
  if (!ParseUrl(rest, "proxy host", &address).ok()) {
    return invalid("expected http://[user:password@]host[:port], with a port from 1 to 65535");
  }
  proxy.host = std::move(address.host);
  if (address.port != 0) proxy.port = address.port;
  *out = std::move(proxy);
  return Status::Ok();
}

std::string RedactProxy(std::string_view text) {
  const size_t at = text.rfind('@');
  if (at == std::string_view::npos) return std::string(text);
  const size_t scheme = text.find("://");
  const size_t start = scheme == std::string_view::npos || scheme > at ? 0 : scheme + 3;
  return std::string(text.substr(0, start)) + "[hidden]" + std::string(text.substr(at));
}

bool BypassesProxy(std::string_view no_proxy, std::string_view host) {
  while (!no_proxy.empty()) {
    const size_t comma = no_proxy.find(',');
    std::string_view entry = Trim(no_proxy.substr(0, comma));
    no_proxy.remove_prefix(comma == std::string_view::npos ? no_proxy.size() : comma + 1);
    if (entry == "*") return true;
    ConsumePrefix(&entry, ".");
    if (entry.empty()) continue;
    if (SameHost(host, entry)) return true;
    // A subdomain: the host ends with "." followed by the entry.
    if (host.size() > entry.size() && host[host.size() - entry.size() - 1] == '.' &&
        SameHost(host.substr(host.size() - entry.size()), entry)) {
      return true;
    }
  }
  return false;
}

Status ChooseProxy(std::string_view setting, std::string_view host, const Environment &env,
                   std::string *url) {
  url->clear();
  if (setting == kDirectProxy) return Status::Ok();
  ProxyUrl proxy;
  if (!setting.empty()) {
    Status parsed = ParseProxyUrl(setting, "the proxy option", &proxy);
    if (!parsed.ok()) return parsed;
    *url = proxy.url();
    return Status::Ok();
  }
  const char *value = nullptr;
  const char *variable = FirstSet(
      env, {"grpc_proxy", "GRPC_PROXY", "https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY"},
      &value);
  if (!variable) return Status::Ok();
  const char *no_proxy = nullptr;
  if (FirstSet(env, {"no_grpc_proxy", "NO_GRPC_PROXY", "no_proxy", "NO_PROXY"}, &no_proxy) &&
      BypassesProxy(no_proxy, host)) {
    return Status::Ok();
  }
  Status parsed = ParseProxyUrl(value, std::string("the environment variable ") + variable, &proxy);
  if (!parsed.ok()) return parsed;
  *url = proxy.url();
  return Status::Ok();
}

}  // namespace zerobus
