// TLS material for the server: PEM files given by the user, or a self-signed pair made with
// OpenSSL at start-up: a local certificate authority (ca.pem, what clients are told to trust)
// and a server certificate it signs for localhost, 127.0.0.1, ::1 and the listen host
// (cert.pem with key.pem), and a client certificate it signs too (client.pem with
// client-key.pem), for trying mutual TLS against the server given the authority as its client
// authority. Files already in the directory are reused, so that clients keep trusting the same
// authority across restarts.
#ifndef ZEROBUS_SERVER_TLS_CERTIFICATE_H
#define ZEROBUS_SERVER_TLS_CERTIFICATE_H

#include <string>

namespace zerobus::server {

struct TlsFiles {
  std::string ca_file;    // the authority to trust; empty for user-given files
  std::string cert_file;  // the server's certificate chain
  std::string key_file;   // its private key
  // A client certificate the authority signed, and its key; empty for user-given files.
  std::string client_cert_file;
  std::string client_key_file;
};

// Makes (or finds) the self-signed files in `directory`, which must exist. False with the
// reason in `*error` on failure.
bool EnsureSelfSignedCertificate(const std::string &directory, const std::string &host,
                                 TlsFiles *files, std::string *error);

// Makes new self-signed files in `directory`, replacing any there, the server certificate for
// `server_names`: a subjectAltName list such as "DNS:localhost,IP:127.0.0.1".
bool MakeSelfSignedCertificate(const std::string &directory, const std::string &server_names,
                               TlsFiles *files, std::string *error);

// The whole content of a file, for gRPC which wants PEM text rather than paths.
bool ReadTextFile(const std::string &path, std::string *text, std::string *error);

}  // namespace zerobus::server

#endif  // ZEROBUS_SERVER_TLS_CERTIFICATE_H
