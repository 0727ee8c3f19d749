#include "server/auth/id_token.h"

#include <cjose/cjose.h>

#include <nlohmann/json.hpp>

#include "core/base64.h"

namespace apm::auth {
namespace {

using json = nlohmann::json;

Status Refused(std::string why) {
  return Status::PermissionDenied("id_token refused: " + why);
}

std::string StringClaim(const json& claims, const char* name) {
  auto it = claims.find(name);
  return it != claims.end() && it->is_string() ? it->get<std::string>() : "";
}

// A NumericDate claim; nullopt when absent or not a number.
std::optional<int64_t> TimeClaim(const json& claims, const char* name) {
  auto it = claims.find(name);
  if (it == claims.end()) return std::nullopt;
  // A value no clock reaches is not a date (and would overflow when the skew is added).
  constexpr int64_t kNoClockReaches = 1'000'000'000'000'000;
  if (it->is_number_unsigned()) {
    uint64_t value = it->get<uint64_t>();
    if (value < uint64_t(kNoClockReaches)) return int64_t(value);
  } else if (it->is_number_integer()) {
    int64_t value = it->get<int64_t>();
    if (value > -kNoClockReaches && value < kNoClockReaches) return value;
  } else if (it->is_number_float()) {  // a fractional NumericDate is allowed
    double value = it->get<double>();
    if (value > -1e15 && value < 1e15) return int64_t(value);
  }
  return std::nullopt;
}

}  // namespace

struct JsonWebKeySet::Key {
  std::string kid;
  cjose_jwk_t* jwk = nullptr;
  ~Key() { cjose_jwk_release(jwk); }
};

JsonWebKeySet::~JsonWebKeySet() = default;

Result<std::shared_ptr<const JsonWebKeySet>> JsonWebKeySet::Parse(std::string_view jwks_json) {
  json doc = json::parse(jwks_json, nullptr, false);
  if (!doc.is_object() || !doc.contains("keys") || !doc["keys"].is_array()) {
    return Status::InvalidArgument("the JWKS is not an object with a \"keys\" array");
  }
  std::shared_ptr<JsonWebKeySet> set(new JsonWebKeySet());
  for (const json& key : doc["keys"]) {
    if (!key.is_object() || StringClaim(key, "kty") != "RSA") continue;
    std::string use = StringClaim(key, "use");
    if (!use.empty() && use != "sig") continue;
    std::string text = key.dump();
    cjose_err error{};
    cjose_jwk_t* jwk = cjose_jwk_import(text.c_str(), text.size(), &error);
    if (!jwk) continue;  // one odd key does not spoil the others
    auto entry = std::make_unique<Key>();
    entry->kid = StringClaim(key, "kid");
    entry->jwk = jwk;
    set->keys_.push_back(std::move(entry));
  }
  if (set->keys_.empty()) return Status::InvalidArgument("the JWKS has no RSA signing key");
  return std::shared_ptr<const JsonWebKeySet>(std::move(set));
}

Result<IdentityClaims> VerifyIdToken(std::string_view token, const JsonWebKeySet& keys,
                                     const IdTokenExpectations& expect) {
  // The header is read before anything else: only RS256 is accepted, whatever the key type,
  // so neither "none" nor HS256 keyed with the public key can get through.
  size_t dot = token.find('.');
  if (dot == std::string_view::npos || token.find('.', dot + 1) == std::string_view::npos) {
    return Refused("not a signed JWT (three base64url parts)");
  }
  Result<std::string> header_text = Base64UrlDecodeNoPad(token.substr(0, dot));
  json header = header_text.ok() ? json::parse(*header_text, nullptr, false) : json();
  if (!header.is_object()) return Refused("the header is not base64url JSON");
  std::string alg = StringClaim(header, "alg");
  if (alg != "RS256") return Refused("algorithm \"" + alg + "\" is not accepted (RS256 only)");
  std::string kid = StringClaim(header, "kid");
  const JsonWebKeySet::Key* key = nullptr;
  for (const auto& candidate : keys.keys_) {
    if (candidate->kid == kid || (kid.empty() && keys.keys_.size() == 1)) key = candidate.get();
  }
  if (!key) return Status::NotFound("id_token signed with an unknown key (kid \"" + kid + "\")");

  // Every part decodes with our strict decoder before cjose sees it: cjose asserts, and so
  // aborts the process, on a part whose length no base64 text can have (found by fuzzing).
  size_t second = token.find('.', dot + 1);
  if (token.find('.', second + 1) != std::string_view::npos ||
      !Base64UrlDecodeNoPad(token.substr(dot + 1, second - dot - 1)).ok() ||
      !Base64UrlDecodeNoPad(token.substr(second + 1)).ok()) {
    return Refused("the payload or the signature is not base64url");
  }
  cjose_err error{};
  cjose_jws_t* jws = cjose_jws_import(token.data(), token.size(), &error);
  if (!jws) return Refused(std::string("malformed JWS: ") + (error.message ? error.message : ""));
  bool valid = cjose_jws_verify(jws, key->jwk, &error);
  uint8_t* payload = nullptr;
  size_t payload_length = 0;
  std::string payload_text;
  if (valid && cjose_jws_get_plaintext(jws, &payload, &payload_length, &error)) {
    payload_text.assign(reinterpret_cast<const char*>(payload), payload_length);
  }
  cjose_jws_release(jws);
  if (!valid) return Refused("the signature does not verify");

  json claims = json::parse(payload_text, nullptr, false);
  if (!claims.is_object()) return Refused("the payload is not a JSON object");
  if (StringClaim(claims, "iss") != expect.issuer) {
    return Refused("issuer \"" + StringClaim(claims, "iss") + "\" is not \"" + expect.issuer +
                   "\"");
  }
  bool audience_ok = false;
  if (auto aud = claims.find("aud"); aud != claims.end()) {
    if (aud->is_string()) audience_ok = aud->get<std::string>() == expect.audience;
    if (aud->is_array()) {
      for (const json& a : *aud) audience_ok |= a.is_string() && a == expect.audience;
      if (aud->size() > 1) audience_ok &= StringClaim(claims, "azp") == expect.audience;
    }
  }
  if (!audience_ok) return Refused("it was issued for another application (aud)");
  std::optional<int64_t> exp = TimeClaim(claims, "exp");
  if (!exp) return Refused("it has no expiry (exp)");
  if (*exp + expect.clock_skew_s <= expect.now_s) return Refused("it has expired");
  std::optional<int64_t> nbf = TimeClaim(claims, "nbf");
  if (!nbf && claims.contains("nbf")) return Refused("its nbf is not a date");
  if (nbf && *nbf - expect.clock_skew_s > expect.now_s) {
    return Refused("it is not valid yet (nbf)");
  }
  if (expect.nonce.empty() || StringClaim(claims, "nonce") != expect.nonce) {
    return Refused("the nonce does not match this sign-in");
  }
  IdentityClaims identity;
  identity.tid = StringClaim(claims, "tid");
  if (!expect.tenant_id.empty() && identity.tid != expect.tenant_id) {
    return Refused("the user belongs to another tenant (tid \"" + identity.tid + "\")");
  }
  identity.oid = StringClaim(claims, "oid");
  if (identity.oid.empty()) return Refused("it has no object id (oid)");
  identity.upn = StringClaim(claims, "preferred_username");
  if (identity.upn.empty()) identity.upn = StringClaim(claims, "upn");
  identity.name = StringClaim(claims, "name");
  if (auto groups = claims.find("groups"); groups != claims.end() && groups->is_array()) {
    for (const json& g : *groups) {
      if (g.is_string()) identity.groups.push_back(g.get<std::string>());
    }
  }
  if (auto names = claims.find("_claim_names"); names != claims.end() && names->is_object()) {
    identity.groups_overage = names->contains("groups");
  }
  return identity;
}

}  // namespace apm::auth
