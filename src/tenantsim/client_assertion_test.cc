#include "tenantsim/client_assertion.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <nlohmann/json.hpp>

#include "core/base64.h"
#include "server/http/http_types.h"
#include "server/testing/test_certificate.h"
#include "tenantsim/sim_handler.h"

namespace apm::sim {
namespace {

using json = nlohmann::json;

constexpr const char* kAudience = "https://login.microsoftonline.com/tid-1/oauth2/v2.0/token";

std::string B64u(std::string_view bytes) {
  return Base64UrlEncodeNoPad(bytes);
}

std::string Sign(EVP_PKEY* key, std::string_view data) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key);
  size_t len = 0;
  EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(data.data()),
                 data.size());
  std::string sig(len, '\0');
  EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                 reinterpret_cast<const unsigned char*>(data.data()), data.size());
  sig.resize(len);
  EVP_MD_CTX_free(ctx);
  return sig;
}

class ClientAssertionTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    certificate_ = new apm::testing::TestCertificate("apm-test");
    key_ = certificate_->key;
    other_key_ = EVP_RSA_gen(2048);
    cert_pem_ = &certificate_->certificate_pem;
  }
  static void TearDownTestSuite() {
    EVP_PKEY_free(other_key_);
    delete certificate_;
  }

  ClientAssertionTest()
      : identity_(clock_, "tid-1", "contoso.example"), handler_(identity_, clock_) {
    identity_.AddApp({"app-1", "", {"DeviceManagementServiceConfig.ReadWrite.All"}, *cert_pem_});
  }

  int64_t Now() const { return clock_.NowMs() / 1000; }

  json Header() const {
    return {{"alg", "RS256"}, {"typ", "JWT"}, {"x5t", CertificateThumbprint(*cert_pem_)}};
  }
  json Payload() {
    return {{"aud", kAudience}, {"iss", "app-1"},
            {"sub", "app-1"},   {"jti", "jti-" + std::to_string(++jti_)},
            {"nbf", Now()},     {"exp", Now() + 600}};
  }
  static std::string Jwt(const json& header, const json& payload, EVP_PKEY* key = nullptr) {
    std::string signing = B64u(header.dump()) + "." + B64u(payload.dump());
    return signing + "." + B64u(Sign(key ? key : key_, signing));
  }

  // Through the HTTP route, so the called URL is an accepted audience too.
  std::pair<int, json> Token(const std::string& assertion,
                             const std::string& type = std::string(kJwtBearerAssertionType)) {
    InboundRequest req;
    req.message.method(http::verb::post);
    req.message.target("/tid-1/oauth2/v2.0/token");
    req.message.set(http::field::host, "sim.test:9090");
    req.message.body() =
        "client_id=app-1&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default"
        "&grant_type=client_credentials&client_assertion_type=" +
        type + "&client_assertion=" + assertion;
    req.path = "/tid-1/oauth2/v2.0/token";
    std::pair<int, json> out;
    handler_.Handle(std::move(req), [&](AnyResponse res, std::string_view) {
      auto& r = std::get<StringResponse>(res);
      out = {r.result_int(), json::parse(r.body(), nullptr, false)};
    });
    return out;
  }
  int64_t Code(const std::string& assertion) {
    auto [status, body] = Token(assertion);
    return status == 200 ? 0 : body["error_codes"][0].get<int64_t>();
  }

  static apm::testing::TestCertificate* certificate_;
  static EVP_PKEY* key_;
  static EVP_PKEY* other_key_;
  static std::string* cert_pem_;
  int jti_ = 0;
  ManualClock clock_;
  Identity identity_;
  SimHandler handler_;
};

apm::testing::TestCertificate* ClientAssertionTest::certificate_ = nullptr;
EVP_PKEY* ClientAssertionTest::key_ = nullptr;
EVP_PKEY* ClientAssertionTest::other_key_ = nullptr;
std::string* ClientAssertionTest::cert_pem_ = nullptr;

TEST_F(ClientAssertionTest, AcceptsAValidAssertion) {
  ASSERT_TRUE(CheckCertificatePem(*cert_pem_).ok());
  auto [status, body] = Token(Jwt(Header(), Payload()));
  ASSERT_EQ(status, 200) << body;
  std::optional<SimApp> app = identity_.Authenticate(body["access_token"]);
  ASSERT_TRUE(app.has_value());
  EXPECT_EQ(app->client_id, "app-1");
  // Without x5t, addressed to the URL the simulator was called under, nbf a little ahead.
  json p = Payload();
  p["aud"] = "http://sim.test:9090/tid-1/oauth2/v2.0/token";
  p["nbf"] = Now() + 120;
  EXPECT_EQ(Code(Jwt({{"alg", "RS256"}, {"typ", "JWT"}}, p)), 0);
  p = Payload();
  p["aud"] = "https://login.microsoftonline.com/contoso.example/oauth2/v2.0/token";
  EXPECT_EQ(Code(Jwt(Header(), p)), 0);
}

TEST_F(ClientAssertionTest, RejectsReplayedJti) {
  std::string jwt = Jwt(Header(), Payload());
  EXPECT_EQ(Code(jwt), 0);
  auto [status, body] = Token(jwt);
  EXPECT_EQ(status, 400);
  EXPECT_EQ(body["error_codes"][0], 50027);
}

TEST_F(ClientAssertionTest, RejectsOtherAlgorithmsAndSignatures) {
  json none = Header();
  none["alg"] = "none";
  std::string unsigned_jwt = B64u(none.dump()) + "." + B64u(Payload().dump()) + ".";
  EXPECT_EQ(Code(unsigned_jwt), 700027);

  json hs = Header();
  hs["alg"] = "HS256";
  EXPECT_EQ(Code(Jwt(hs, Payload())), 700027);

  // Signed by a key that is not the certificate's.
  auto [status, body] = Token(Jwt(Header(), Payload(), other_key_));
  EXPECT_EQ(status, 401);
  EXPECT_EQ(body["error"], "invalid_client");
  EXPECT_EQ(body["error_codes"][0], 700027);
  EXPECT_NE(body["error_description"].get<std::string>().find("AADSTS700027"), std::string::npos);

  // A tampered payload under the original signature.
  std::string good = Jwt(Header(), Payload());
  size_t dot1 = good.find('.'), dot2 = good.rfind('.');
  json changed = Payload();
  changed["sub"] = "app-1";
  std::string tampered = good.substr(0, dot1 + 1) + B64u(changed.dump()) + good.substr(dot2);
  EXPECT_EQ(Code(tampered), 700027);

  json wrong_x5t = Header();
  wrong_x5t["x5t"] = B64u("not the thumbprint!!");
  EXPECT_EQ(Code(Jwt(wrong_x5t, Payload())), 700027);
}

TEST_F(ClientAssertionTest, RejectsTimesOutsideTheValidRange) {
  json expired = Payload();
  expired["exp"] = Now() - 1;
  EXPECT_EQ(Code(Jwt(Header(), expired)), 700024);
  json early = Payload();
  early["nbf"] = Now() + 600;
  EXPECT_EQ(Code(Jwt(Header(), early)), 700024);
  json no_exp = Payload();
  no_exp.erase("exp");
  EXPECT_EQ(Code(Jwt(Header(), no_exp)), 50027);
  // Valid when made, expired when the clock has moved on.
  std::string later = Jwt(Header(), Payload());
  clock_.Advance(std::chrono::seconds(601));
  EXPECT_EQ(Code(later), 700024);
}

TEST_F(ClientAssertionTest, RejectsWrongAudienceIssuerAndSubject) {
  json aud = Payload();
  aud["aud"] = "https://login.microsoftonline.com/other/oauth2/v2.0/token";
  EXPECT_EQ(Code(Jwt(Header(), aud)), 700023);
  json iss = Payload();
  iss["iss"] = "app-2";
  EXPECT_EQ(Code(Jwt(Header(), iss)), 700021);
  json sub = Payload();
  sub["sub"] = 42;
  EXPECT_EQ(Code(Jwt(Header(), sub)), 700021);
  json no_jti = Payload();
  no_jti.erase("jti");
  EXPECT_EQ(Code(Jwt(Header(), no_jti)), 50027);
}

TEST_F(ClientAssertionTest, RejectsMalformedAssertions) {
  EXPECT_EQ(Code("not-a-jwt"), 50027);
  EXPECT_EQ(Code("a.b.c.d"), 50027);
  EXPECT_EQ(Code(B64u("[1]") + "." + B64u("{}") + ".x"), 50027);
  auto [status, body] = Token(Jwt(Header(), Payload()), "urn:other");
  EXPECT_EQ(status, 400);
  // An app without a certificate cannot use assertions; with neither credential: 7000218.
  identity_.AddApp({"app-2", "s", {}, ""});
  std::map<std::string, std::string> form = {
      {"client_id", "app-2"},
      {"scope", "https://graph.microsoft.com/.default"},
      {"grant_type", "client_credentials"},
      {"client_assertion_type", std::string(kJwtBearerAssertionType)},
      {"client_assertion", Jwt(Header(), Payload())}};
  auto result = identity_.ClientCredentials(form);
  ASSERT_TRUE(std::holds_alternative<TokenError>(result));
  EXPECT_EQ(std::get<TokenError>(result).aadsts, 700027);
  form.erase("client_assertion_type");
  form.erase("client_assertion");
  result = identity_.ClientCredentials(form);
  ASSERT_TRUE(std::holds_alternative<TokenError>(result));
  EXPECT_EQ(std::get<TokenError>(result).aadsts, 7000218);
  // A secret is no credential for an app that has none.
  form["client_id"] = "app-1";
  form["client_secret"] = "";
  result = identity_.ClientCredentials(form);
  ASSERT_TRUE(std::holds_alternative<TokenError>(result));
  EXPECT_EQ(std::get<TokenError>(result).aadsts, 7000215);
  EXPECT_FALSE(CheckCertificatePem("garbage").ok());
}

}  // namespace
}  // namespace apm::sim
