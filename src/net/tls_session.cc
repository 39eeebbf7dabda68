#include "net/tls_session.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cstring>

namespace zerobus::net {
namespace {

// Adds every certificate of `pem` to `store`; false when none parses.
bool AddCertificates(X509_STORE *store, const std::string &pem) {
  BIO *bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) return false;
  int added = 0;
  while (X509 *certificate = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
    added += X509_STORE_add_cert(store, certificate) == 1;
    X509_free(certificate);
  }
  ERR_clear_error();  // the end of the PEM text reads as an error
  BIO_free(bio);
  return added > 0;
}

bool UseClientCertificate(SSL_CTX *context, const std::string &cert_pem,
                          const std::string &key_pem) {
  BIO *certs = BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size()));
  BIO *key = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
  bool ok = certs != nullptr && key != nullptr;
  X509 *leaf = ok ? PEM_read_bio_X509(certs, nullptr, nullptr, nullptr) : nullptr;
  ok = leaf != nullptr && SSL_CTX_use_certificate(context, leaf) == 1;
  X509_free(leaf);
  // The rest of the chain, if the PEM holds one.
  while (ok) {
    X509 *intermediate = PEM_read_bio_X509(certs, nullptr, nullptr, nullptr);
    if (intermediate == nullptr) break;
    if (SSL_CTX_add0_chain_cert(context, intermediate) != 1) X509_free(intermediate);
  }
  ERR_clear_error();
  EVP_PKEY *private_key = ok ? PEM_read_bio_PrivateKey(key, nullptr, nullptr, nullptr) : nullptr;
  ok = private_key != nullptr && SSL_CTX_use_PrivateKey(context, private_key) == 1 &&
       SSL_CTX_check_private_key(context) == 1;
  EVP_PKEY_free(private_key);
  BIO_free(certs);
  BIO_free(key);
  return ok;
}

}  // namespace

std::unique_ptr<TlsSession> TlsSession::Create(const TlsOptions &options, const std::string &host,
                                               std::string *error) {
  std::unique_ptr<TlsSession> session(new TlsSession());
  session->context_ = SSL_CTX_new(TLS_client_method());
  SSL_CTX *context = session->context_;
  if (context == nullptr) {
    *error = "TLS: no context";
    return nullptr;
  }
  SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
  SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nullptr);
  if (options.ca_pem.empty()) {
    SSL_CTX_set_default_verify_paths(context);
  } else if (!AddCertificates(SSL_CTX_get_cert_store(context), options.ca_pem)) {
    *error = "TLS: the trusted authorities hold no certificate";
    return nullptr;
  }
  if (!options.cert_pem.empty() &&
      !UseClientCertificate(context, options.cert_pem, options.key_pem)) {
    *error = "TLS: the client certificate or its key does not load, or they do not match";
    return nullptr;
  }
  static const unsigned char kAlpn[] = {2, 'h', '2'};
  SSL_CTX_set_alpn_protos(context, kAlpn, sizeof kAlpn);

  session->ssl_ = SSL_new(context);
  session->network_in_ = BIO_new(BIO_s_mem());
  session->network_out_ = BIO_new(BIO_s_mem());
  if (session->ssl_ == nullptr || session->network_in_ == nullptr ||
      session->network_out_ == nullptr) {
    BIO_free(session->network_in_);
    BIO_free(session->network_out_);
    session->network_in_ = session->network_out_ = nullptr;
    *error = "TLS: no session";
    return nullptr;
  }
  SSL_set_bio(session->ssl_, session->network_in_, session->network_out_);
  SSL_set_connect_state(session->ssl_);
  const std::string &name = options.server_name.empty() ? host : options.server_name;
  session->checked_name_ = name;
  SSL_set_tlsext_host_name(session->ssl_, name.c_str());
  // An address is checked as one; a name as a DNS name.
  X509_VERIFY_PARAM *verify = SSL_get0_param(session->ssl_);
  X509_VERIFY_PARAM_set_hostflags(verify, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  if (X509_VERIFY_PARAM_set1_ip_asc(verify, name.c_str()) != 1) {
    ERR_clear_error();
    X509_VERIFY_PARAM_set1_host(verify, name.c_str(), name.size());
  }
  return session;
}

TlsSession::~TlsSession() {
  SSL_free(ssl_);  // frees both BIOs
  SSL_CTX_free(context_);
}

void TlsSession::Feed(const uint8_t *data, size_t length) {
  BIO_write(network_in_, data, static_cast<int>(length));
}

bool TlsSession::Handshake(std::string *error) {
  const int result = SSL_do_handshake(ssl_);
  if (result == 1) {
    const unsigned char *protocol = nullptr;
    unsigned int length = 0;
    SSL_get0_alpn_selected(ssl_, &protocol, &length);
    if (length != 2 || std::memcmp(protocol, "h2", 2) != 0) {
      *error = "TLS: the server did not agree to HTTP/2 (ALPN h2)";
    }
    return true;
  }
  const int reason = SSL_get_error(ssl_, result);
  if (reason != SSL_ERROR_WANT_READ && reason != SSL_ERROR_WANT_WRITE) *error = ErrorText(result);
  return false;
}

bool TlsSession::Read(std::string *plaintext, std::string *error) {
  char buffer[16384];
  for (;;) {
    const int got = SSL_read(ssl_, buffer, sizeof buffer);
    if (got > 0) {
      plaintext->append(buffer, static_cast<size_t>(got));
      continue;
    }
    const int reason = SSL_get_error(ssl_, got);
    if (reason == SSL_ERROR_WANT_READ || reason == SSL_ERROR_WANT_WRITE) return true;
    *error = reason == SSL_ERROR_ZERO_RETURN ? "the server closed the TLS session" : ErrorText(got);
    return false;
  }
}

bool TlsSession::Write(const uint8_t *data, size_t length, std::string *error) {
  while (length > 0) {
    const int wrote = SSL_write(ssl_, data, static_cast<int>(length));
    if (wrote <= 0) {
      *error = ErrorText(wrote);
      return false;
    }
    data += wrote;
    length -= static_cast<size_t>(wrote);
  }
  return true;
}

void TlsSession::TakeOutput(SendQueue *out) {
  char *bytes = nullptr;
  const long length = BIO_get_mem_data(network_out_, &bytes);
  if (length <= 0) return;
  out->Copy(std::string_view(bytes, static_cast<size_t>(length)));
  (void)BIO_reset(network_out_);
}

std::string TlsSession::ErrorText(int result) {
  std::string text = "TLS: ";
  const long verified = SSL_get_verify_result(ssl_);
  if (verified != X509_V_OK) {
    text +=
        std::string("certificate verify failed (") + X509_verify_cert_error_string(verified) + ")";
    if (verified == X509_V_ERR_HOSTNAME_MISMATCH || verified == X509_V_ERR_IP_ADDRESS_MISMATCH) {
      text += ": the server's certificate is not for " + checked_name_;
    }
  } else if (const unsigned long code = ERR_peek_last_error()) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof buffer);
    text += buffer;
  } else {
    text += "error " + std::to_string(SSL_get_error(ssl_, result));
  }
  ERR_clear_error();
  return text;
}

}  // namespace zerobus::net
