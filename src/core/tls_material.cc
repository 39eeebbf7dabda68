#include "core/tls_material.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

namespace zerobus {
namespace {

// One PEM setting as the key pair tls.X.pem / tls.X.file gives it.
struct PemSetting {
  const char *pem_key;
  const std::string &pem;
  const char *file_key;
  const std::string &file;
  // What a block of this kind contains after "-----BEGIN ", e.g. "CERTIFICATE-----".
  const char *block;
};

// The setting's PEM text (the .pem value, else the .file's content, else empty), checked to
// hold a block of its kind.
Status ReadPem(const PemSetting &setting, std::string *pem) {
  const char *key = setting.pem_key;
  if (!setting.pem.empty()) {
    *pem = setting.pem;
  } else if (!setting.file.empty()) {
    key = setting.file_key;
    std::ifstream file(setting.file, std::ios::binary);
    if (file) pem->assign(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
    if (!file.is_open() || file.bad()) {
      return Status(StatusCode::kInvalidValue, std::string("cannot read ") + key + " '" +
                                                   setting.file + "': " + std::strerror(errno));
    }
  } else {
    pem->clear();
    return Status::Ok();
  }
  const size_t begin = pem->find("-----BEGIN ");
  if (begin == std::string::npos || pem->find(setting.block, begin) == std::string::npos) {
    pem->clear();
    return Status(StatusCode::kInvalidValue,
                  std::string(key) + " holds no PEM block ending in '" + setting.block + "'");
  }
  return Status::Ok();
}

}  // namespace

Status LoadTlsMaterial(const Settings &settings, TlsMaterial *material) {
  Status status = ReadPem(
      {"tls.ca.pem", settings.tls_ca_pem, "tls.ca.file", settings.tls_ca_file, "CERTIFICATE-----"},
      &material->ca_pem);
  if (!status.ok()) return status;
  status = ReadPem({"tls.cert.pem", settings.tls_cert_pem, "tls.cert.file", settings.tls_cert_file,
                    "CERTIFICATE-----"},
                   &material->cert_pem);
  if (!status.ok()) return status;
  // "PRIVATE KEY-----" ends the PKCS #8, RSA and EC forms alike.
  status = ReadPem({"tls.key.pem", settings.tls_key_pem, "tls.key.file", settings.tls_key_file,
                    "PRIVATE KEY-----"},
                   &material->key_pem);
  if (!status.ok()) return status;
  if (material->cert_pem.empty() != material->key_pem.empty()) {
    return Status(StatusCode::kInvalidValue,
                  material->cert_pem.empty()
                      ? "tls.key.file or tls.key.pem is set without tls.cert.file or tls.cert.pem"
                      : "tls.cert.file or tls.cert.pem is set without tls.key.file or tls.key.pem");
  }
  material->server_name = settings.tls_server_name;
  return Status::Ok();
}

}  // namespace zerobus
