#include "core/headers.h"

#include <algorithm>

namespace zerobus {
namespace {

constexpr std::string_view kTableNameHeader = "x-databricks-zerobus-table-name";

bool IsHeaderNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

bool Has(const Headers &headers, std::string_view name) {
  return std::any_of(headers.entries.begin(), headers.entries.end(),
                     [&](const auto &entry) { return entry.first == name; });
}

}  // namespace

Status AddHeader(Headers *headers, std::string_view name, std::string_view value) {
  std::string why;
  if (name.empty() || !std::all_of(name.begin(), name.end(), IsHeaderNameChar)) {
    why = "header names are lower-case ASCII letters, digits, '-', '_' and '.'";
  } else if (name.substr(0, 5) == "grpc-" || name == "te" || name == "content-type") {
    why = "the header is reserved for gRPC itself";
  } else if (name == "user-agent") {
    // gRPC would replace it with the channel's without a word.
    why = "the library sends it: name the application with sdk.application.name";
  } else if (!std::all_of(value.begin(), value.end(),
                          [](char c) { return c >= 0x20 && c <= 0x7e; })) {
    why = "header values are printable ASCII";
  }
  if (why.empty()) {
    headers->entries.emplace_back(name, value);
    return Status::Ok();
  }
  // The value may be a credential: it never goes into the message.
  Status rejected(StatusCode::kInvalidArg,
                  "cannot send header '" + std::string(name) + "': " + why);
  if (headers->rejected.ok()) headers->rejected = rejected;
  return rejected;
}

Status CollectHeaders(const HeadersProviderRef &provider, const std::string &token,
                      std::string_view table_name, Headers *out) {
  if (provider) {
    const StatusCode rc = provider->Call(out);
    if (rc != StatusCode::kOk) {
      const char *name = StatusName(rc);
      return Status(StatusCode::kAuth,
                    std::string("the headers provider failed with ") +
                        (name ? name : std::to_string(static_cast<int32_t>(rc)).c_str()),
                    true);
    }
    if (!out->rejected.ok()) return Status(StatusCode::kAuth, out->rejected.message());
  } else if (!token.empty()) {
    out->entries.emplace_back("authorization", "Bearer " + token);
  }
  if (!Has(*out, kTableNameHeader)) out->entries.emplace_back(kTableNameHeader, table_name);
  return Status::Ok();
}

void SetTableHeaderLast(std::string_view table_name, Headers *headers) {
  auto &entries = headers->entries;
  entries.erase(std::remove_if(entries.begin(), entries.end(),
                               [](const auto &entry) { return entry.first == kTableNameHeader; }),
                entries.end());
  entries.emplace_back(kTableNameHeader, table_name);
}

}  // namespace zerobus
