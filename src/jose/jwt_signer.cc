#include "jose/jwt_signer.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <memory>

#include "jose/jwt.h"

namespace zerobus::jose {
namespace {

struct PkeyDeleter {
  void operator()(EVP_PKEY *key) const { EVP_PKEY_free(key); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyDeleter>;
struct BioDeleter {
  void operator()(BIO *bio) const { BIO_free(bio); }
};
using Bio = std::unique_ptr<BIO, BioDeleter>;
struct DigestContextDeleter {
  void operator()(EVP_MD_CTX *context) const { EVP_MD_CTX_free(context); }
};

std::string BioText(BIO *bio) {
  char *data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(size));
}

}  // namespace

bool MakeRsaKeyPair(std::string *private_pem, std::string *public_pem, std::string *why) {
  const Pkey key(EVP_RSA_gen(2048));
  const Bio private_bio(BIO_new(BIO_s_mem()));
  const Bio public_bio(BIO_new(BIO_s_mem()));
  if (!key || !private_bio || !public_bio ||
      PEM_write_bio_PrivateKey(private_bio.get(), key.get(), nullptr, nullptr, 0, nullptr,
                               nullptr) != 1 ||
      PEM_write_bio_PUBKEY(public_bio.get(), key.get()) != 1) {
    *why = "OpenSSL could not make an RSA key pair";
    return false;
  }
  *private_pem = BioText(private_bio.get());
  *public_pem = BioText(public_bio.get());
  return true;
}

bool SignJwtRs256(const std::string &private_pem, const nlohmann::json &claims, std::string *jwt,
                  std::string *why) {
  const Bio bio(BIO_new_mem_buf(private_pem.data(), static_cast<int>(private_pem.size())));
  const Pkey key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!key || EVP_PKEY_base_id(key.get()) != EVP_PKEY_RSA) {
    *why = "the key is not an RSA private key in PEM";
    return false;
  }
  const nlohmann::json header = {{"alg", "RS256"}, {"typ", "JWT"}};
  const std::string input = EncodeBase64Url(header.dump()) + "." + EncodeBase64Url(claims.dump());
  const std::unique_ptr<EVP_MD_CTX, DigestContextDeleter> context(EVP_MD_CTX_new());
  const auto *signed_bytes = reinterpret_cast<const unsigned char *>(input.data());
  size_t size = 0;
  if (!context ||
      EVP_DigestSignInit(context.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
      EVP_DigestSign(context.get(), nullptr, &size, signed_bytes, input.size()) != 1) {
    *why = "OpenSSL could not sign the token";
    return false;
  }
  std::string signature(size, '\0');
  if (EVP_DigestSign(context.get(), reinterpret_cast<unsigned char *>(signature.data()), &size,
                     signed_bytes, input.size()) != 1) {
    *why = "OpenSSL could not sign the token";
    return false;
  }
  signature.resize(size);
  *jwt = input + "." + EncodeBase64Url(signature);
  return true;
}

}  // namespace zerobus::jose
