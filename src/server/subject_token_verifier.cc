#include "server/subject_token_verifier.h"

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdio>
#include <optional>

#include "jose/jwt.h"

namespace zerobus::server {
namespace {

struct PkeyDeleter {
  void operator()(EVP_PKEY *key) const { EVP_PKEY_free(key); }
};
struct DigestContextDeleter {
  void operator()(EVP_MD_CTX *context) const { EVP_MD_CTX_free(context); }
};
struct SignatureDeleter {
  void operator()(ECDSA_SIG *signature) const { ECDSA_SIG_free(signature); }
};

// ES256 signs with r and s as 32 big-endian bytes each (RFC 7518 §3.4); OpenSSL verifies the
// DER form. False when `raw` is not 64 bytes.
bool EcdsaDer(const std::string &raw, std::string *der) {
  if (raw.size() != 64) return false;
  const auto *bytes = reinterpret_cast<const unsigned char *>(raw.data());
  std::unique_ptr<ECDSA_SIG, SignatureDeleter> signature(ECDSA_SIG_new());
  BIGNUM *r = BN_bin2bn(bytes, 32, nullptr);
  BIGNUM *s = BN_bin2bn(bytes + 32, 32, nullptr);
  if (!signature || !r || !s || ECDSA_SIG_set0(signature.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return false;
  }
  const int size = i2d_ECDSA_SIG(signature.get(), nullptr);
  if (size <= 0) return false;
  der->resize(static_cast<size_t>(size));
  auto *out = reinterpret_cast<unsigned char *>(der->data());
  return i2d_ECDSA_SIG(signature.get(), &out) == size;
}

}  // namespace

struct SubjectTokenVerifier::Key {
  std::unique_ptr<EVP_PKEY, PkeyDeleter> pkey;
  std::string algorithm;  // "RS256" or "ES256"
};

SubjectTokenVerifier::SubjectTokenVerifier(std::unique_ptr<Key> key) : key_(std::move(key)) {}
SubjectTokenVerifier::~SubjectTokenVerifier() = default;

std::shared_ptr<const SubjectTokenVerifier> SubjectTokenVerifier::Load(const std::string &pem_file,
                                                                       std::string *why) {
  FILE *file = std::fopen(pem_file.c_str(), "r");
  if (!file) {
    *why = "cannot open the federation key " + pem_file;
    return nullptr;
  }
  auto key = std::make_unique<Key>();
  key->pkey.reset(PEM_read_PUBKEY(file, nullptr, nullptr, nullptr));
  std::fclose(file);
  if (!key->pkey) {
    *why = pem_file + " holds no PEM public key (BEGIN PUBLIC KEY)";
    return nullptr;
  }
  switch (EVP_PKEY_base_id(key->pkey.get())) {
    case EVP_PKEY_RSA:
      key->algorithm = "RS256";
      break;
    case EVP_PKEY_EC:
      key->algorithm = "ES256";
      break;
    default:
      *why = "the federation key " + pem_file + " is neither RSA (RS256) nor EC (ES256)";
      return nullptr;
  }
  return std::shared_ptr<const SubjectTokenVerifier>(new SubjectTokenVerifier(std::move(key)));
}

bool SubjectTokenVerifier::Verify(std::string_view jwt, std::chrono::system_clock::time_point now,
                                  int64_t *exp, std::string *why) const {
  jose::JwtParts parts;
  if (!jose::ParseJwt(jwt, &parts, why)) return false;
  const auto alg = parts.header.find("alg");
  if (alg == parts.header.end() || *alg != key_->algorithm) {
    *why = "its JWT header must have alg " + key_->algorithm + ", the identity provider's";
    return false;
  }
  std::string signature = parts.signature;
  if (key_->algorithm == "ES256" && !EcdsaDer(parts.signature, &signature)) {
    *why = "its ES256 signature is not 64 bytes";
    return false;
  }
  std::unique_ptr<EVP_MD_CTX, DigestContextDeleter> context(EVP_MD_CTX_new());
  const bool verified =
      context &&
      EVP_DigestVerifyInit(context.get(), nullptr, EVP_sha256(), nullptr, key_->pkey.get()) == 1 &&
      EVP_DigestVerify(context.get(), reinterpret_cast<const unsigned char *>(signature.data()),
                       signature.size(),
                       reinterpret_cast<const unsigned char *>(parts.signing_input.data()),
                       parts.signing_input.size()) == 1;
  if (!verified) {
    *why = "its signature is not the identity provider's";
    return false;
  }
  const std::optional<int64_t> expiry = jose::JwtExpiry(parts.claims);
  if (!expiry) {
    *why = "it has no numeric exp claim";
    return false;
  }
  const int64_t now_seconds =
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  if (*expiry <= now_seconds) {
    *why = "it expired " + std::to_string(now_seconds - *expiry) + " s ago";
    return false;
  }
  *exp = *expiry;
  return true;
}

}  // namespace zerobus::server
