#include "tenantsim/forged_token.h"

#include <gtest/gtest.h>

#include <string>

#include "core/base64.h"
#include "tenantsim/signing_keys.h"

namespace apm::sim {
namespace {

using json = nlohmann::json;

json Part(const std::string& token, int index) {
  size_t start = 0;
  for (int i = 0; i < index; ++i) start = token.find('.', start) + 1;
  const size_t end = token.find('.', start);
  Result<std::string> text = Base64UrlDecodeNoPad(token.substr(start, end - start));
  return text.ok() ? json::parse(*text, nullptr, false) : json();
}

std::string Signature(const std::string& token) {
  return token.substr(token.rfind('.') + 1);
}

class ForgedTokenTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::string> signed_token = keys_.SignJwt(json{{"sub", "user"}, {"groups", {"g1"}}});
    ASSERT_TRUE(signed_token.ok());
    token_ = *signed_token;
    ASSERT_TRUE(keys_.Verify(token_).has_value());
  }
  SigningKeys keys_;
  std::string token_;
};

TEST_F(ForgedTokenTest, TamperedKeepsTheSignatureAndChangesTheGroups) {
  const std::string forged = ForgeToken(token_, "tampered", keys_.Jwks());
  EXPECT_EQ(Signature(forged), Signature(token_));
  EXPECT_EQ(Part(forged, 1)["groups"], json::array({"00000000-0000-4000-8000-00000000beef"}));
  EXPECT_EQ(Part(forged, 1)["sub"], "user");
  EXPECT_FALSE(keys_.Verify(forged).has_value());
}

TEST_F(ForgedTokenTest, AlgNoneHasNoSignature) {
  const std::string forged = ForgeToken(token_, "alg-none", keys_.Jwks());
  EXPECT_EQ(Part(forged, 0)["alg"], "none");
  EXPECT_EQ(forged.back(), '.');
  EXPECT_EQ(Part(forged, 1), Part(token_, 1));
  EXPECT_FALSE(keys_.Verify(forged).has_value());
}

TEST_F(ForgedTokenTest, Hs256IsSignedWithThePublicModulus) {
  const std::string forged = ForgeToken(token_, "hs256", keys_.Jwks());
  EXPECT_EQ(Part(forged, 0)["alg"], "HS256");
  EXPECT_EQ(Part(forged, 1), Part(token_, 1));
  // An HMAC-SHA256 is 32 bytes: 43 base64url characters without padding.
  EXPECT_EQ(Signature(forged).size(), 43u);
  EXPECT_NE(Signature(forged), Signature(token_));
  EXPECT_FALSE(keys_.Verify(forged).has_value());
}

TEST_F(ForgedTokenTest, OtherFaultsLeaveTheTokenAlone) {
  EXPECT_EQ(ForgeToken(token_, "expired", keys_.Jwks()), token_);
  EXPECT_EQ(ForgeToken(token_, "", keys_.Jwks()), token_);
}

}  // namespace
}  // namespace apm::sim
