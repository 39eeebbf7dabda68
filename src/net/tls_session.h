// TLS for a client connection, on buffers rather than a socket (OpenSSL's memory BIOs), so that
// the connection keeps its own non-blocking socket and its one place for bytes to send.
#ifndef ZEROBUS_NET_TLS_SESSION_H
#define ZEROBUS_NET_TLS_SESSION_H

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "net/send_queue.h"

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;
typedef struct bio_st BIO;

namespace zerobus::net {

struct TlsOptions {
  bool enabled = false;
  std::string ca_pem;       // the only authorities to trust; empty: the system's
  std::string cert_pem;     // a client certificate chain (mutual TLS); empty: none
  std::string key_pem;      // its private key
  std::string server_name;  // checked on the server's certificate instead of the host
};

class TlsSession {
 public:
  // A client session for `host` (SNI, and the name its certificate must carry unless
  // options.server_name says another), offering HTTP/2 (ALPN "h2"). Null with `error` set when
  // the options do not make a context (a PEM that does not parse, a key that does not match).
  static std::unique_ptr<TlsSession> Create(const TlsOptions &options, const std::string &host,
                                            std::string *error);
  ~TlsSession();
  TlsSession(const TlsSession &) = delete;
  TlsSession &operator=(const TlsSession &) = delete;

  // Bytes that came from the network.
  void Feed(const uint8_t *data, size_t length);
  // Moves the handshake on: true once it is over (and the server chose "h2"), false while it
  // wants more from the network; `error` set when it failed.
  bool Handshake(std::string *error);
  // Appends what the bytes fed so far decrypt to; false with `error` set when the session
  // failed or the server closed it.
  bool Read(std::string *plaintext, std::string *error);
  // Encrypts `length` bytes; false with `error` set when the session failed.
  bool Write(const uint8_t *data, size_t length, std::string *error);
  // Appends what is to be sent to the network (handshake records, encrypted data) to `out`.
  void TakeOutput(SendQueue *out);

 private:
  TlsSession() = default;
  // OpenSSL's error queue, and the verification result, as one line.
  std::string ErrorText(int result);

  std::string checked_name_;  // what the certificate must be for
  SSL_CTX *context_ = nullptr;
  SSL *ssl_ = nullptr;
  BIO *network_in_ = nullptr;   // owned by ssl_
  BIO *network_out_ = nullptr;  // owned by ssl_
};

}  // namespace zerobus::net

#endif  // ZEROBUS_NET_TLS_SESSION_H
