#include "server/auth/id_token.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <limits>

#include <nlohmann/json.hpp>

#include "core/base64.h"
#include "tenantsim/signing_keys.h"

namespace apm::auth {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;

constexpr int64_t kNow = 1'800'000'000;

std::string B64(const std::string& s) {
  return Base64UrlEncodeNoPad(s);
}

class IdTokenTest : public ::testing::Test {
 protected:
  sim::SigningKeys signer;
  IdTokenExpectations expect{
      "https://login.test/tid-1/v2.0", "app-1", "nonce-1", "tid-1", kNow, 120};

  json Claims() const {
    return {{"iss", expect.issuer}, {"aud", "app-1"},
            {"exp", kNow + 3600},   {"nbf", kNow - 10},
            {"iat", kNow - 10},     {"nonce", "nonce-1"},
            {"tid", "tid-1"},       {"oid", "oid-ada"},
            {"sub", "pairwise"},    {"preferred_username", "ada@contoso.example"},
            {"name", "Ada"},        {"groups", {"g-1", "g-2"}}};
  }
  std::shared_ptr<const JsonWebKeySet> Keys() {
    auto keys = JsonWebKeySet::Parse(signer.Jwks().dump());
    EXPECT_TRUE(keys.ok()) << keys.status().ToString();
    return *keys;
  }
  Result<IdentityClaims> Verify(const json& claims) {
    Result<std::string> token = signer.SignJwt(claims);
    EXPECT_TRUE(token.ok());
    return VerifyIdToken(*token, *Keys(), expect);
  }
  // A token with this header and claims, signed with `signature` (not a real signature).
  static std::string Forged(const json& header, const json& claims, const std::string& sig) {
    return B64(header.dump()) + "." + B64(claims.dump()) + "." + B64(sig);
  }
};

TEST_F(IdTokenTest, AcceptsAGoodTokenAndReadsWhoSignedIn) {
  Result<IdentityClaims> id = Verify(Claims());
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(id->oid, "oid-ada");
  EXPECT_EQ(id->upn, "ada@contoso.example");
  EXPECT_EQ(id->groups, (std::vector<std::string>{"g-1", "g-2"}));
  EXPECT_FALSE(id->groups_overage);
}

TEST_F(IdTokenTest, RefusesEachBrokenClaimWithItsReason) {
  struct Case {
    const char* what;
    std::function<void(json&)> change;
    const char* reason;
  };
  std::vector<Case> cases = {
      {"issuer", [](json& c) { c["iss"] = "https://evil.test"; }, "issuer"},
      {"audience", [](json& c) { c["aud"] = "other-app"; }, "another application"},
      {"audience list without azp",
       [](json& c) {
         c["aud"] = {"app-1", "other"};
       },
       "another application"},
      {"expired", [](json& c) { c["exp"] = kNow - 121; }, "expired"},
      {"no exp", [](json& c) { c.erase("exp"); }, "no expiry"},
      // Found by the id_token fuzz target's review: the skew added to these overflowed.
      {"exp no clock reaches", [](json& c) { c["exp"] = std::numeric_limits<int64_t>::max(); },
       "no expiry"},
      {"exp beyond int64", [](json& c) { c["exp"] = std::numeric_limits<uint64_t>::max(); },
       "no expiry"},
      {"nbf no clock reaches", [](json& c) { c["nbf"] = std::numeric_limits<int64_t>::min(); },
       "nbf is not a date"},
      {"not yet valid", [](json& c) { c["nbf"] = kNow + 121; }, "not valid yet"},
      {"nonce", [](json& c) { c["nonce"] = "replayed"; }, "nonce"},
      {"tenant", [](json& c) { c["tid"] = "tid-other"; }, "another tenant"},
      {"oid", [](json& c) { c.erase("oid"); }, "oid"},
  };
  for (const Case& c : cases) {
    json claims = Claims();
    c.change(claims);
    Result<IdentityClaims> id = Verify(claims);
    ASSERT_FALSE(id.ok()) << c.what;
    EXPECT_EQ(id.status().code(), StatusCode::kPermissionDenied) << c.what;
    EXPECT_THAT(id.status().message(), HasSubstr(c.reason)) << c.what;
  }
  // Within the clock skew is fine.
  json skewed = Claims();
  skewed["exp"] = kNow - 60;
  EXPECT_TRUE(Verify(skewed).ok());
}

TEST_F(IdTokenTest, RefusesAlgNoneAndHs256WithThePublicKey) {
  std::string kid = signer.CurrentKid();
  std::string none = Forged({{"alg", "none"}, {"kid", kid}}, Claims(), "");
  Result<IdentityClaims> a = VerifyIdToken(none, *Keys(), expect);
  ASSERT_FALSE(a.ok());
  EXPECT_THAT(a.status().message(), HasSubstr("\"none\" is not accepted"));
  // HS256 keyed with the (public) modulus: the classic key-confusion attack.
  json jwk = signer.Jwks()["keys"][0];
  std::string hs = Forged({{"alg", "HS256"}, {"kid", kid}}, Claims(), jwk["n"].get<std::string>());
  Result<IdentityClaims> b = VerifyIdToken(hs, *Keys(), expect);
  ASSERT_FALSE(b.ok());
  EXPECT_THAT(b.status().message(), HasSubstr("\"HS256\" is not accepted"));
}

TEST_F(IdTokenTest, RefusesATamperedPayloadAndAnUnknownKey) {
  std::string token = *signer.SignJwt(Claims());
  size_t d1 = token.find('.'), d2 = token.rfind('.');
  json changed = Claims();
  changed["groups"] = {"g-admins"};
  std::string tampered = token.substr(0, d1 + 1) + B64(changed.dump()) + token.substr(d2);
  Result<IdentityClaims> t = VerifyIdToken(tampered, *Keys(), expect);
  ASSERT_FALSE(t.ok());
  EXPECT_THAT(t.status().message(), HasSubstr("signature"));

  std::shared_ptr<const JsonWebKeySet> old_keys = Keys();
  signer.Rotate();
  Result<IdentityClaims> u = VerifyIdToken(*signer.SignJwt(Claims()), *old_keys, expect);
  EXPECT_EQ(u.status().code(), StatusCode::kNotFound);  // the caller refetches the keys
  EXPECT_TRUE(VerifyIdToken(*signer.SignJwt(Claims()), *Keys(), expect).ok());
  EXPECT_FALSE(VerifyIdToken("not.a-token", *Keys(), expect).ok());
}

// Found by the id_token fuzz target: cjose asserted (and aborted the server) on this payload.
TEST_F(IdTokenTest, APartNoBase64CanHaveIsRefusedNotFatal) {
  const char* broken[] = {
      "eyJhbGciOiJSUzI1NiIsImtwIjoiSldUIn0.eIsIy=J.c2ln",  // '=' and 5 characters
      "eyJhbGciOiJSUzI1NiIsImtwIjoiSldUIn0.eIsIy.c2ln",    // 5 characters
      "eyJhbGciOiJSUzI1NiIsImtwIjoiSldUIn0.e30.c2lnb",     // the signature: 5 characters
      "eyJhbGciOiJSUzI1NiIsImtwIjoiSldUIn0.e30.c2ln.e30",  // four parts
  };
  for (const char* token : broken) {
    Result<IdentityClaims> r = VerifyIdToken(token, *Keys(), expect);
    ASSERT_FALSE(r.ok()) << token;
    EXPECT_NE(r.status().message().find("base64url"), std::string::npos) << r.status().ToString();
  }
}

TEST_F(IdTokenTest, OverageClaimsInsteadOfGroups) {
  json claims = Claims();
  claims.erase("groups");
  claims["_claim_names"] = {{"groups", "src1"}};
  claims["_claim_sources"] = {
      {"src1", {{"endpoint", "https://graph.microsoft.com/v1.0/users/oid-ada/getMemberObjects"}}}};
  Result<IdentityClaims> id = Verify(claims);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_TRUE(id->groups_overage);
  EXPECT_TRUE(id->groups.empty());
}

TEST(JsonWebKeySetTest, NeedsRsaSigningKeys) {
  EXPECT_FALSE(JsonWebKeySet::Parse("[]").ok());
  EXPECT_FALSE(JsonWebKeySet::Parse(R"({"keys":[{"kty":"oct","k":"AAAA"}]})").ok());
  EXPECT_FALSE(JsonWebKeySet::Parse("{not json").ok());
}

}  // namespace
}  // namespace apm::auth
