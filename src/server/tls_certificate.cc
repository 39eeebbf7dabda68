#include "server/tls_certificate.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>

namespace zerobus::server {
namespace {

struct KeyFree {
  void operator()(EVP_PKEY *key) const { EVP_PKEY_free(key); }
};
struct CertFree {
  void operator()(X509 *cert) const { X509_free(cert); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;
using Cert = std::unique_ptr<X509, CertFree>;

bool FileExists(const std::string &path) {
  return std::ifstream(path).good();
}

bool AddExtension(X509 *cert, X509 *issuer, int nid, const std::string &value) {
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION *extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value.c_str());
  if (extension == nullptr) return false;
  const bool added = X509_add_ext(cert, extension, -1) == 1;
  X509_EXTENSION_free(extension);
  return added;
}

enum class Role { kAuthority, kServer, kClient };

// A certificate for `common_name` with `public_key`, valid from an hour ago for ten years,
// signed by `issuer_key` under `issuer` (null: self-signed); `alt_names` for a server only.
Cert MakeCertificate(const std::string &common_name, EVP_PKEY *public_key, X509 *issuer,
                     EVP_PKEY *issuer_key, Role role, const std::string &alt_names) {
  Cert cert(X509_new());
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7F;  // a positive serial number
  BIGNUM *number = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(number, X509_get_serialNumber(cert.get()));
  BN_free(number);
  X509_set_version(cert.get(), 2);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 10L * 365 * 24 * 3600);
  X509_set_pubkey(cert.get(), public_key);
  X509_NAME *name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char *>("zerobus serve"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char *>(common_name.c_str()), -1, -1,
                             0);
  X509 *signer = issuer != nullptr ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
  bool ok = AddExtension(cert.get(), signer, NID_subject_key_identifier, "hash") &&
            AddExtension(cert.get(), signer, NID_authority_key_identifier, "keyid:always");
  if (role == Role::kAuthority) {
    ok = ok && AddExtension(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE") &&
         AddExtension(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    // rustls (the official SDK's TLS) rejects a leaf that says it is an authority.
    ok = ok && AddExtension(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE") &&
         AddExtension(cert.get(), signer, NID_key_usage, "critical,digitalSignature") &&
         AddExtension(cert.get(), signer, NID_ext_key_usage,
                      role == Role::kServer ? "serverAuth" : "clientAuth");
    if (role == Role::kServer) {
      ok = ok && AddExtension(cert.get(), signer, NID_subject_alt_name, alt_names);
    }
  }
  if (!ok || X509_sign(cert.get(), issuer_key, EVP_sha256()) == 0) return nullptr;
  return cert;
}

// Writes a new file at `path` with `mode`: whatever was there (a file of an earlier pair, or a
// symbolic link) is removed, not written through, so the file has its mode from its creation.
bool WritePem(const std::string &path, mode_t mode, const std::function<int(FILE *)> &write,
              std::string *error) {
  const auto failed = [&]() {
    *error = "cannot write " + path + ": " + std::strerror(errno);
    return false;
  };
  if (unlink(path.c_str()) != 0 && errno != ENOENT) return failed();
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  if (fd < 0) return failed();
  FILE *file = fdopen(fd, "w");
  if (file == nullptr) {
    failed();
    close(fd);
    return false;
  }
  const bool ok = write(file) == 1;
  if (std::fclose(file) != 0 || !ok) {
    *error = "cannot write " + path;
    return false;
  }
  return true;
}

// Where the self-signed files of `directory` are.
TlsFiles FilesIn(const std::string &directory) {
  return TlsFiles{directory + "/ca.pem", directory + "/cert.pem", directory + "/key.pem",
                  directory + "/client.pem", directory + "/client-key.pem"};
}

bool IsIpAddress(const std::string &host) {
  return host.find_first_not_of("0123456789.") == std::string::npos ||
         host.find(':') != std::string::npos;
}

}  // namespace

bool ReadTextFile(const std::string &path, std::string *text, std::string *error) {
  std::ifstream file(path);
  if (!file) {
    *error = "cannot read " + path;
    return false;
  }
  std::stringstream content;
  content << file.rdbuf();
  *text = content.str();
  return true;
}

bool EnsureSelfSignedCertificate(const std::string &directory, const std::string &host,
                                 TlsFiles *files, std::string *error) {
  std::string server_names = "DNS:localhost,IP:127.0.0.1,IP:::1";
  if (!host.empty() && host != "localhost" && host != "127.0.0.1" && host != "::1" &&
      host != "0.0.0.0" && host != "::") {
    server_names += (IsIpAddress(host) ? ",IP:" : ",DNS:") + host;
  }
  *files = FilesIn(directory);
  for (const std::string *file : {&files->ca_file, &files->cert_file, &files->key_file,
                                  &files->client_cert_file, &files->client_key_file}) {
    if (!FileExists(*file)) return MakeSelfSignedCertificate(directory, server_names, files, error);
  }
  return true;
}

bool MakeSelfSignedCertificate(const std::string &directory, const std::string &server_names,
                               TlsFiles *files, std::string *error) {
  *files = FilesIn(directory);
  Key ca_key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  Key server_key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  Key client_key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!ca_key || !server_key || !client_key) {
    *error = "cannot generate TLS keys";
    return false;
  }
  Cert ca = MakeCertificate("zerobus serve local authority", ca_key.get(), nullptr, ca_key.get(),
                            Role::kAuthority, "");
  Cert server = ca ? MakeCertificate("localhost", server_key.get(), ca.get(), ca_key.get(),
                                     Role::kServer, server_names)
                   : nullptr;
  Cert client = ca ? MakeCertificate("zerobus serve local client", client_key.get(), ca.get(),
                                     ca_key.get(), Role::kClient, "")
                   : nullptr;
  if (!ca || !server || !client) {
    *error = "cannot make the self-signed TLS certificates";
    return false;
  }
  const auto write_key = [&](EVP_PKEY *key) {
    return [key](FILE *f) {
      return PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
    };
  };
  // The chains a peer receives: the certificate, then the authority's.
  const auto write_chain = [&](X509 *leaf) {
    return [leaf, &ca](FILE *f) {
      return PEM_write_X509(f, leaf) == 1 ? PEM_write_X509(f, ca.get()) : 0;
    };
  };
  // The certificates are public; the keys are their owner's alone from the start.
  return WritePem(
             files->ca_file, 0644, [&](FILE *f) { return PEM_write_X509(f, ca.get()); }, error) &&
         WritePem(files->cert_file, 0644, write_chain(server.get()), error) &&
         WritePem(files->key_file, 0600, write_key(server_key.get()), error) &&
         WritePem(files->client_cert_file, 0644, write_chain(client.get()), error) &&
         WritePem(files->client_key_file, 0600, write_key(client_key.get()), error);
}

}  // namespace zerobus::server
