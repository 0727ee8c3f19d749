// The relying party against the tenant simulator's OpenID provider, in-process.
#include "server/auth/oidc_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "server/http/form.h"
#include "server/http/in_process_outbound_http.h"
#include "tenantsim/sim_handler.h"

namespace apm::auth {
namespace {

using ::testing::HasSubstr;

constexpr char kTenant[] = "5f0c7a3e-1d2b-4c8a-9e71-2f4b8d0c6aaa";
constexpr char kRedirect[] = "https://apm.test/signin-oidc";

class OidcClientTest : public ::testing::Test {
 protected:
  OidcClientTest() : identity_(clock_, kTenant, "contoso.example"), model_(clock_, {}) {
    sim::SimApp app;
    app.client_id = "apm-web";
    app.client_secret = "apm-secret";
    app.redirect_uris = {kRedirect};
    app.post_logout_redirect_uris = {"https://apm.test/signout-callback-oidc"};
    app.auto_login = true;
    identity_.AddApp(app);
    ada_ = handler_.oidc().AddTestUser({"ada@contoso.example", "Ada", {"Autopilot Approvers"}});
  }

  OidcSettings Settings() const {
    return {std::string("http://login.test/") + kTenant + "/v2.0",
            "apm-web",
            "apm-secret",
            kTenant,
            "openid profile",
            120};
  }

  // What the browser does: follow the authorization URL (signing in as `upn`) to the redirect.
  std::map<std::string, std::string> Authorize(const std::string& url, const std::string& upn) {
    OutboundRequest get;
    get.url = url + "&login_hint=" + FormEncode(upn);
    Result<OutboundResponse> r = http_.Send(get);
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(r->status, 302) << r->body;
    std::string location = r->Header("location");
    EXPECT_EQ(location.rfind(kRedirect, 0), 0u) << location;
    return ParseForm(location.substr(location.find('?') + 1))
        .value_or(std::map<std::string, std::string>());
  }

  ManualClock clock_{1'800'000'000'000};
  sim::Identity identity_;
  sim::GraphModel model_;
  sim::SimHandler handler_{identity_, model_, clock_};
  InProcessOutboundHttp http_{handler_};
  sim::TestUser ada_;
};

TEST_F(OidcClientTest, CodeFlowWithPkceSignsInTheUser) {
  OidcClient client(http_, clock_, Settings());
  Result<LoginStart> start = client.StartLogin(kRedirect);
  ASSERT_TRUE(start.ok()) << start.status().ToString();
  EXPECT_THAT(start->url, HasSubstr("code_challenge_method=S256"));
  EXPECT_THAT(start->url,
              HasSubstr("code_challenge=" + OidcClient::CodeChallenge(start->code_verifier)));
  EXPECT_NE(start->state, start->nonce);
  std::map<std::string, std::string> answer = Authorize(start->url, "ada@contoso.example");
  EXPECT_EQ(answer["state"], start->state);
  Result<SignedIn> in =
      client.FinishLogin(answer["code"], start->code_verifier, start->nonce, kRedirect);
  ASSERT_TRUE(in.ok()) << in.status().ToString();
  EXPECT_EQ(in->identity.oid, ada_.oid);
  EXPECT_EQ(in->identity.upn, "ada@contoso.example");
  EXPECT_EQ(in->identity.groups.size(), 1u);
  // A code is good once.
  Result<SignedIn> again =
      client.FinishLogin(answer["code"], start->code_verifier, start->nonce, kRedirect);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kPermissionDenied);
}

TEST_F(OidcClientTest, AWrongVerifierOrNonceIsRefused) {
  OidcClient client(http_, clock_, Settings());
  Result<LoginStart> start = client.StartLogin(kRedirect);
  ASSERT_TRUE(start.ok());
  auto answer = Authorize(start->url, "ada@contoso.example");
  EXPECT_FALSE(client
                   .FinishLogin(answer["code"], "wrong-verifier-wrong-verifier-wrong-verifier",
                                start->nonce, kRedirect)
                   .ok());
  Result<LoginStart> second = client.StartLogin(kRedirect);
  auto answer2 = Authorize(second->url, "ada@contoso.example");
  Result<SignedIn> in =
      client.FinishLogin(answer2["code"], second->code_verifier, "another-nonce", kRedirect);
  ASSERT_FALSE(in.ok());
  EXPECT_THAT(in.status().message(), HasSubstr("nonce"));
}

TEST_F(OidcClientTest, AnotherTenantIsRefused) {
  OidcSettings settings = Settings();
  settings.tenant_id = "00000000-0000-4000-8000-00000000ffff";
  OidcClient client(http_, clock_, settings);
  Result<LoginStart> start = client.StartLogin(kRedirect);
  auto answer = Authorize(start->url, "ada@contoso.example");
  Result<SignedIn> in =
      client.FinishLogin(answer["code"], start->code_verifier, start->nonce, kRedirect);
  ASSERT_FALSE(in.ok());
  EXPECT_THAT(in.status().message(), HasSubstr("another tenant"));
}

// Counts the requests that fetch the signing keys.
class CountingOutboundHttp : public OutboundHttp {
 public:
  explicit CountingOutboundHttp(OutboundHttp& inner) : inner_(inner) {}
  Result<OutboundResponse> Send(const OutboundRequest& request,
                                SendReport* report = nullptr) override {
    if (request.url.find("/keys") != std::string::npos) ++key_fetches;
    return inner_.Send(request, report);
  }
  int key_fetches = 0;

 private:
  OutboundHttp& inner_;
};

TEST_F(OidcClientTest, KeyRotationIsFollowedByOneRefetch) {
  CountingOutboundHttp counting(http_);
  OidcClient client(counting, clock_, Settings());
  Result<LoginStart> first = client.StartLogin(kRedirect);
  auto a1 = Authorize(first->url, "ada@contoso.example");
  ASSERT_TRUE(client.FinishLogin(a1["code"], first->code_verifier, first->nonce, kRedirect).ok());
  handler_.oidc().signing_keys().Rotate();   // new tokens carry a kid the cached JWKS lacks
  clock_.Advance(std::chrono::seconds(11));  // refetches are spaced 10 s apart
  Result<LoginStart> second = client.StartLogin(kRedirect);
  auto a2 = Authorize(second->url, "ada@contoso.example");
  Result<SignedIn> in =
      client.FinishLogin(a2["code"], second->code_verifier, second->nonce, kRedirect);
  EXPECT_TRUE(in.ok()) << in.status().ToString();
  EXPECT_EQ(counting.key_fetches, 2);  // once at first use, once for the new kid
  // Without a rotation the cached keys serve.
  Result<LoginStart> third = client.StartLogin(kRedirect);
  auto a3 = Authorize(third->url, "ada@contoso.example");
  ASSERT_TRUE(client.FinishLogin(a3["code"], third->code_verifier, third->nonce, kRedirect).ok());
  EXPECT_EQ(counting.key_fetches, 2);
}

TEST_F(OidcClientTest, LogoutUsesTheEndSessionEndpoint) {
  OidcClient client(http_, clock_, Settings());
  Result<std::string> url = client.LogoutUrl("", "https://apm.test/signout-callback-oidc");
  ASSERT_TRUE(url.ok());
  EXPECT_THAT(*url, HasSubstr("/oauth2/v2.0/logout?"));
  EXPECT_THAT(*url,
              HasSubstr("post_logout_redirect_uri=https%3A%2F%2Fapm.test%2Fsignout-callback-oidc"));
}

TEST_F(OidcClientTest, AnUnreachableProviderIsUnavailable) {
  OidcSettings settings = Settings();
  settings.authority = "http://login.test/no-such-tenant/v2.0";
  OidcClient client(http_, clock_, settings);
  Result<LoginStart> start = client.StartLogin(kRedirect);
  ASSERT_FALSE(start.ok());
  EXPECT_EQ(start.status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace apm::auth
