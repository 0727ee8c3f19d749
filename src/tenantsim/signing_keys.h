// The tenant's id_token signing keys: RSA 2048, published as a JWKS, RS256 JWTs. The first key
// is made on first use (so handlers in tests that never sign pay nothing); Rotate adds a key
// for new tokens and keeps the previous one published, as Entra does during a rollover.
#pragma once

#include <openssl/evp.h>

#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace apm::sim {

class SigningKeys {
 public:
  SigningKeys() = default;
  SigningKeys(const SigningKeys&) = delete;
  SigningKeys& operator=(const SigningKeys&) = delete;

  // The kid new tokens are signed with.
  std::string CurrentKid();
  // A new key signs from now on; the one before stays in the JWKS, older ones leave it.
  // Returns the new kid.
  std::string Rotate();
  // Published kids, oldest first.
  std::vector<std::string> Kids();
  // {"keys":[{kty, use, kid, n, e, alg}, …]}
  nlohmann::json Jwks();
  // A compact JWS of `payload`; header {typ: JWT, alg: RS256, kid}.
  Result<std::string> SignJwt(const nlohmann::json& payload);
  // The payload of a JWT signed by a published key; nullopt for anything else.
  std::optional<nlohmann::json> Verify(std::string_view jwt);

  static constexpr size_t kPublishedKeys = 2;

 private:
  struct PkeyFree {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
  };
  struct Key {
    std::string kid, n, e;  // n and e base64url, kid the RFC 7638 thumbprint
    std::shared_ptr<EVP_PKEY> pkey;
  };

  void EnsureKeyLocked();
  void AddKeyLocked();

  std::mutex mu_;          // guards keys_
  std::vector<Key> keys_;  // the last one signs
};

}  // namespace apm::sim
