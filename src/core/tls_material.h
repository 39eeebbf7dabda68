// The TLS settings of an SDK (tls.* in config.cc) read and checked once, when it is created, and
// shared by the gRPC channel and the requests to the workspace.
#ifndef ZEROBUS_CORE_TLS_MATERIAL_H
#define ZEROBUS_CORE_TLS_MATERIAL_H

#include <string>

#include "core/config.h"
#include "core/status.h"

namespace zerobus {

struct TlsMaterial {
  std::string ca_pem;       // the only authorities to trust; empty: the system's
  std::string cert_pem;     // the client certificate chain; empty: none (then key_pem is too)
  std::string key_pem;      // its private key; a secret, never put in a message
  std::string server_name;  // checked on the server's certificate instead of the URL's host
};

// Reads the PEM text or files `settings` name. ZB_ERR_INVALID_VALUE naming the key when a file
// cannot be read, holds no PEM block of its kind, or a certificate comes without a key or a key
// without a certificate. Messages quote paths, never a key's content.
Status LoadTlsMaterial(const Settings &settings, TlsMaterial *material);

}  // namespace zerobus

#endif  // ZEROBUS_CORE_TLS_MATERIAL_H
