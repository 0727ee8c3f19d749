#include "server/auth/client_assertion_signer.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/base64.h"
#include "server/http/form.h"
#include "server/json_text.h"
#include "server/random_guid.h"

namespace apm {

struct ClientAssertionSigner::Key {
  EVP_PKEY* key = nullptr;
  std::string x5t;  // base64url SHA-1 thumbprint of the certificate, as Entra expects
  ~Key() { EVP_PKEY_free(key); }
};

ClientAssertionSigner::ClientAssertionSigner(std::unique_ptr<Key> key) : key_(std::move(key)) {}
ClientAssertionSigner::~ClientAssertionSigner() = default;

Result<std::shared_ptr<const ClientAssertionSigner>> ClientAssertionSigner::Load(
    const std::string& certificate_file, const std::string& key_file_or_empty) {
  auto key = std::make_unique<Key>();
  FILE* f = std::fopen(certificate_file.c_str(), "r");
  if (!f) return Status::InvalidArgument("cannot read " + certificate_file);
  X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  if (!cert) return Status::InvalidArgument(certificate_file + " holds no PEM certificate");
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  X509_digest(cert, EVP_sha1(), digest, &len);
  key->x5t = Base64UrlEncodeNoPad(std::string_view(reinterpret_cast<char*>(digest), len));
  EVP_PKEY* cert_key = X509_get_pubkey(cert);
  X509_free(cert);
  const std::string& key_file = key_file_or_empty.empty() ? certificate_file : key_file_or_empty;
  f = std::fopen(key_file.c_str(), "r");
  if (!f) {
    EVP_PKEY_free(cert_key);
    return Status::InvalidArgument("cannot read " + key_file);
  }
  key->key = PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  const bool matches = key->key && EVP_PKEY_eq(key->key, cert_key) == 1;
  const bool rsa = key->key && EVP_PKEY_is_a(key->key, "RSA");
  EVP_PKEY_free(cert_key);
  if (!key->key) return Status::InvalidArgument(key_file + " holds no PEM private key");
  if (!rsa) return Status::InvalidArgument(key_file + ": the key must be RSA (RS256)");
  if (!matches) {
    return Status::InvalidArgument(key_file + " does not belong to the certificate in " +
                                   certificate_file);
  }
  return std::shared_ptr<const ClientAssertionSigner>(new ClientAssertionSigner(std::move(key)));
}

Result<std::string> ClientAssertionSigner::Sign(const std::string& client_id,
                                                const std::string& audience, int64_t now) const {
  const nlohmann::json header = {{"alg", "RS256"}, {"typ", "JWT"}, {"x5t", key_->x5t}};
  const nlohmann::json claims = {
      {"aud", audience},     {"iss", client_id}, {"sub", client_id},
      {"jti", RandomGuid()}, {"nbf", now - 60},  // a minute of slack for a fast server clock
      {"iat", now},          {"exp", now + 600}};
  const std::string signing_input =
      Base64UrlEncodeNoPad(JsonText(header)) + "." + Base64UrlEncodeNoPad(JsonText(claims));
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t sig_len = 0;
  std::string sig;
  bool ok = ctx && EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key_->key) == 1 &&
            EVP_DigestSign(ctx, nullptr, &sig_len,
                           reinterpret_cast<const unsigned char*>(signing_input.data()),
                           signing_input.size()) == 1;
  if (ok) {
    sig.resize(sig_len);
    ok = EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &sig_len,
                        reinterpret_cast<const unsigned char*>(signing_input.data()),
                        signing_input.size()) == 1;
    sig.resize(sig_len);
  }
  EVP_MD_CTX_free(ctx);
  if (!ok) return Status::Internal("signing the client assertion failed");
  return signing_input + "." + Base64UrlEncodeNoPad(sig);
}

Result<std::string> ClientAssertionSigner::FormFields(const std::string& client_id,
                                                      const std::string& audience,
                                                      int64_t now_s) const {
  Result<std::string> assertion = Sign(client_id, audience, now_s);
  if (!assertion.ok()) return assertion.status();
  return "client_assertion_type=" +
         FormEncode("urn:ietf:params:oauth:client-assertion-type:jwt-bearer") +
         "&client_assertion=" + *assertion;
}

}  // namespace apm
