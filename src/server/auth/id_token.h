// Verification of OpenID Connect id_tokens: RS256 signatures (libcjose) against the issuer's
// JWKS, then the claims we depend on (iss, aud, exp/nbf, nonce, tid), then who the user is.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace apm::auth {

// The issuer's signing keys (a JWKS document), parsed once.
class JsonWebKeySet {
 public:
  // Keeps the RSA signing keys; fails when the document is not a JWKS or has none.
  static Result<std::shared_ptr<const JsonWebKeySet>> Parse(std::string_view jwks_json);
  ~JsonWebKeySet();
  JsonWebKeySet(const JsonWebKeySet&) = delete;
  JsonWebKeySet& operator=(const JsonWebKeySet&) = delete;
  size_t size() const { return keys_.size(); }

  struct Key;

 private:
  JsonWebKeySet() = default;
  friend Result<struct IdentityClaims> VerifyIdToken(std::string_view token,
                                                     const JsonWebKeySet& keys,
                                                     const struct IdTokenExpectations& expect);
  std::vector<std::unique_ptr<Key>> keys_;
};

struct IdTokenExpectations {
  std::string issuer;
  std::string audience;   // our client id
  std::string nonce;      // the one sent with this sign-in
  std::string tenant_id;  // "" = any tenant
  int64_t now_s = 0;
  int64_t clock_skew_s = 120;
};

// Who signed in, from a verified token.
struct IdentityClaims {
  std::string oid;  // the user's object id: the key we know users by
  std::string tid;
  std::string upn;  // preferred_username (or upn)
  std::string name;
  std::vector<std::string> groups;
  bool groups_overage = false;  // too many groups: resolve them through Graph
};

// Why a token was refused is in the Status message; kNotFound means only that the signing key
// is unknown (the caller refetches the JWKS once and tries again).
Result<IdentityClaims> VerifyIdToken(std::string_view token, const JsonWebKeySet& keys,
                                     const IdTokenExpectations& expect);

}  // namespace apm::auth
