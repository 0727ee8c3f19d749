#include "tenantsim/signing_keys.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/rsa.h>

#include <cstdlib>

#include "core/base64.h"
#include "core/sha256.h"
#include "server/json_text.h"
#include "tenantsim/jose.h"

namespace apm::sim {
namespace {

using json = nlohmann::json;

// A big-endian unsigned integer parameter of the key, base64url.
std::string BigNumParam(EVP_PKEY* key, const char* name) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &bn) != 1) return "";
  std::string bytes(size_t(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(bytes.data()));
  BN_free(bn);
  return Base64UrlEncodeNoPad(bytes);
}

}  // namespace

void SigningKeys::AddKeyLocked() {
  EVP_PKEY* raw = EVP_RSA_gen(2048);
  // Like RAND_bytes failing elsewhere in the simulator: no entropy, nothing sensible to do.
  if (!raw) std::abort();
  Key key;
  key.pkey = std::shared_ptr<EVP_PKEY>(raw, PkeyFree());
  key.n = BigNumParam(raw, OSSL_PKEY_PARAM_RSA_N);
  key.e = BigNumParam(raw, OSSL_PKEY_PARAM_RSA_E);
  if (key.n.empty() || key.e.empty()) std::abort();
  // RFC 7638: the members in lexicographic order, no white space.
  std::string canonical = R"({"e":")" + key.e + R"(","kty":"RSA","n":")" + key.n + R"("})";
  Sha256Digest digest = Sha256(canonical);
  key.kid = Base64UrlEncodeNoPad(
      std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
  keys_.push_back(std::move(key));
  while (keys_.size() > kPublishedKeys) keys_.erase(keys_.begin());
}

void SigningKeys::EnsureKeyLocked() {
  if (keys_.empty()) AddKeyLocked();
}

std::string SigningKeys::CurrentKid() {
  std::lock_guard lock(mu_);
  EnsureKeyLocked();
  return keys_.back().kid;
}

std::string SigningKeys::Rotate() {
  std::lock_guard lock(mu_);
  EnsureKeyLocked();
  AddKeyLocked();
  return keys_.back().kid;
}

std::vector<std::string> SigningKeys::Kids() {
  std::lock_guard lock(mu_);
  EnsureKeyLocked();
  std::vector<std::string> out;
  for (const Key& k : keys_) out.push_back(k.kid);
  return out;
}

json SigningKeys::Jwks() {
  std::lock_guard lock(mu_);
  EnsureKeyLocked();
  json keys = json::array();
  for (const Key& k : keys_) {
    keys.push_back(
        {{"kty", "RSA"}, {"use", "sig"}, {"kid", k.kid}, {"n", k.n}, {"e", k.e}, {"alg", "RS256"}});
  }
  return {{"keys", std::move(keys)}};
}

Result<std::string> SigningKeys::SignJwt(const json& payload) {
  Key key;
  {
    std::lock_guard lock(mu_);
    EnsureKeyLocked();
    key = keys_.back();
  }
  json header = {{"typ", "JWT"}, {"alg", "RS256"}, {"kid", key.kid}};
  std::string signing_input =
      Base64UrlEncodeNoPad(JsonText(header)) + "." + Base64UrlEncodeNoPad(JsonText(payload));
  std::optional<std::string> signature = SignRs256(key.pkey.get(), signing_input);
  if (!signature) return Status::Internal("RS256 signing failed");
  return signing_input + "." + Base64UrlEncodeNoPad(*signature);
}

std::optional<json> SigningKeys::Verify(std::string_view jwt) {
  size_t dot1 = jwt.find('.');
  size_t dot2 = dot1 == std::string_view::npos ? dot1 : jwt.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos) return std::nullopt;
  std::optional<std::string> header_text = Base64UrlDecode(jwt.substr(0, dot1));
  std::optional<std::string> payload_text = Base64UrlDecode(jwt.substr(dot1 + 1, dot2 - dot1 - 1));
  std::optional<std::string> signature = Base64UrlDecode(jwt.substr(dot2 + 1));
  if (!header_text || !payload_text || !signature) return std::nullopt;
  json header = json::parse(*header_text, nullptr, false);
  json payload = json::parse(*payload_text, nullptr, false);
  if (!header.is_object() || !payload.is_object() || header.value("alg", json()) != "RS256") {
    return std::nullopt;
  }
  json kid = header.value("kid", json());
  std::shared_ptr<EVP_PKEY> pkey;
  {
    std::lock_guard lock(mu_);
    for (const Key& k : keys_) {
      if (kid == k.kid) pkey = k.pkey;
    }
  }
  if (!pkey || !VerifyRs256(pkey.get(), jwt.substr(0, dot2), *signature)) return std::nullopt;
  return payload;
}

}  // namespace apm::sim
