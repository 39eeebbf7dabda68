// `zerobus idp`: a test identity provider for token federation against `zerobus serve
// --federation-key`: it makes an RSA key pair and signs the subject JWTs a producer's token
// federation callback hands the library, so that a producer (and each binding's tests) can
// exercise federation without a real identity provider and without crypto code of its own.
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/flags.h"
#include "jose/jwt_signer.h"

namespace zerobus::cli {
namespace {

constexpr char kUsage[] =
    "usage: zerobus idp keygen DIR\n"
    "       zerobus idp sign KEY [--lifetime DUR] [--subject NAME]\n"
    "\n"
    "A test identity provider for token federation, not for production:\n"
    "  keygen DIR  makes an RSA key pair in DIR (made if need be): DIR/idp-key.pem, the\n"
    "              private key (mode 0600), and DIR/idp.pem, the public key to give\n"
    "              `zerobus serve --federation-key`\n"
    "  sign KEY    prints an RS256 JWT signed with the private key KEY: the subject token a\n"
    "              token federation callback hands the library\n"
    "\n"
    "Options of sign:\n"
    "  --lifetime DUR  the JWT's exp is DUR from now (default 10m); DUR is a number and ms,\n"
    "                  s, m or h\n"
    "  --subject NAME  its sub claim (default workload)\n"
    "  --help          show this help\n"
    "\n"
    "Example:\n"
    "  zerobus idp keygen idp && zerobus serve --tls --federation-key idp/idp.pem &\n"
    "  zerobus idp sign idp/idp-key.pem --lifetime 1h\n";

bool WriteFile(const std::string &path, const std::string &text, mode_t mode) {
  std::FILE *file = std::fopen(path.c_str(), "w");
  if (file == nullptr) return false;
  const bool written = std::fwrite(text.data(), 1, text.size(), file) == text.size();
  return std::fclose(file) == 0 && written && chmod(path.c_str(), mode) == 0;
}

int Keygen(const std::string &dir) {
  if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    std::fprintf(stderr, "zerobus idp: cannot make %s: %s\n", dir.c_str(), std::strerror(errno));
    return 1;
  }
  std::string private_pem;
  std::string public_pem;
  std::string why;
  if (!jose::MakeRsaKeyPair(&private_pem, &public_pem, &why)) {
    std::fprintf(stderr, "zerobus idp: %s\n", why.c_str());
    return 1;
  }
  const std::string private_path = dir + "/idp-key.pem";
  const std::string public_path = dir + "/idp.pem";
  if (!WriteFile(private_path, private_pem, 0600) || !WriteFile(public_path, public_pem, 0644)) {
    std::fprintf(stderr, "zerobus idp: cannot write %s and %s\n", private_path.c_str(),
                 public_path.c_str());
    return 1;
  }
  std::printf("%s\n%s\n", private_path.c_str(), public_path.c_str());
  return 0;
}

int Sign(const std::string &key_path, std::chrono::milliseconds lifetime,
         const std::string &subject) {
  std::ifstream file(key_path);
  const std::string private_pem((std::istreambuf_iterator<char>(file)),
                                std::istreambuf_iterator<char>());
  if (!file) {
    std::fprintf(stderr, "zerobus idp: cannot read %s\n", key_path.c_str());
    return 1;
  }
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  const nlohmann::json claims = {
      {"iss", "zerobus-idp"},
      {"sub", subject},
      {"aud", "databricks"},
      {"iat", now},
      {"exp", now + std::chrono::duration_cast<std::chrono::seconds>(lifetime).count()}};
  std::string jwt;
  std::string why;
  if (!jose::SignJwtRs256(private_pem, claims, &jwt, &why)) {
    std::fprintf(stderr, "zerobus idp: %s: %s\n", key_path.c_str(), why.c_str());
    return 1;
  }
  std::printf("%s\n", jwt.c_str());
  return 0;
}

}  // namespace

int RunIdp(int argc, char **argv) {
  std::vector<std::string> arguments;
  std::chrono::milliseconds lifetime = std::chrono::minutes(10);
  std::string subject = "workload";
  Flags flags("idp", kUsage);
  flags.Positional([&](const std::string &v) {
    if (arguments.size() == 2) return "unexpected argument '" + v + "'";
    arguments.push_back(v);
    return std::string();
  });
  flags.Value("--lifetime", [&](const std::string &v) {
    return ParseDuration(v, &lifetime) && lifetime.count() >= 1000
               ? std::string()
               : "--lifetime wants a duration of at least 1s, got '" + v + "'";
  });
  flags.Value("--subject", [&](const std::string &v) {
    subject = v;
    return v.empty() ? std::string("--subject wants a name") : std::string();
  });
  if (std::optional<int> status = flags.Parse(argc, argv)) return *status;
  if (arguments.size() == 2 && arguments[0] == "keygen") return Keygen(arguments[1]);
  if (arguments.size() == 2 && arguments[0] == "sign") return Sign(arguments[1], lifetime, subject);
  std::fprintf(stderr, "zerobus idp: keygen DIR or sign KEY?\n\n%s", kUsage);
  return 2;
}

}  // namespace zerobus::cli
