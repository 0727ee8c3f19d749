#include "tenantsim/oidc_provider.h"

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>

#include "core/base64.h"
#include "core/testing/html_form.h"
#include "server/http/form.h"
#include "tenantsim/sim_handler.h"

namespace apm::sim {
namespace {

using apm::testing::HiddenFields;

using json = nlohmann::json;
using Params = std::map<std::string, std::string>;

constexpr const char* kTenant = "5f0c7a3e-1d2b-4c8a-9e71-2f4b8d0c6aaa";
constexpr const char* kClient = "web-app";
constexpr const char* kSecret = "web-secret";
constexpr const char* kRedirect = "http://app.test/auth/callback";
constexpr const char* kHost = "login.test:8443";
constexpr const char* kBase = "http://login.test:8443";
// RFC 7636 appendix B: a verifier and its S256 challenge, computed independently of the code.
constexpr const char* kVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
constexpr const char* kChallenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

struct Response {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // names lower-case

  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
  json Json() const { return json::parse(body, nullptr, false); }
};

std::string Encode(const Params& params) {
  std::string out;
  for (const auto& [name, value] : params) {
    out += (out.empty() ? "" : "&") + FormEncode(name) + "=" + FormEncode(value);
  }
  return out;
}

// Query parameters of a URL (decoded).
Params QueryOf(const std::string& url) {
  size_t q = url.find('?');
  if (q == std::string::npos) return {};
  return ParseForm(std::string_view(url).substr(q + 1)).value_or(Params());
}

// The hidden inputs of a page's form, as a browser would submit them.

std::optional<std::string> B64uDecode(std::string_view text) {
  std::string s(text);
  for (char& c : s) c = c == '-' ? '+' : c == '_' ? '/' : c;
  while (s.size() % 4) s.push_back('=');
  Result<std::string> r = Base64Decode(s);
  if (!r.ok()) return std::nullopt;
  return *r;
}

struct Jwt {
  json header, payload;
  std::string signed_part, signature;
};

Jwt Decode(const std::string& token) {
  size_t d1 = token.find('.'), d2 = token.rfind('.');
  Jwt jwt;
  jwt.header = json::parse(B64uDecode(token.substr(0, d1)).value_or(""), nullptr, false);
  jwt.payload =
      json::parse(B64uDecode(token.substr(d1 + 1, d2 - d1 - 1)).value_or(""), nullptr, false);
  jwt.signed_part = token.substr(0, d2);
  jwt.signature = B64uDecode(token.substr(d2 + 1)).value_or("");
  return jwt;
}

// Verifies the RS256 signature with the JWKS entry named by the header's kid, the way a relying
// party does: the public key rebuilt from n and e.
bool VerifyWithJwks(const std::string& token, const json& jwks) {
  Jwt jwt = Decode(token);
  if (jwt.header.value("alg", "") != "RS256") return false;
  for (const json& k : jwks["keys"]) {
    if (k["kid"] != jwt.header["kid"]) continue;
    std::string n = B64uDecode(k["n"].get<std::string>()).value_or("");
    std::string e = B64uDecode(k["e"].get<std::string>()).value_or("");
    BIGNUM* bn_n =
        BN_bin2bn(reinterpret_cast<const unsigned char*>(n.data()), int(n.size()), nullptr);
    BIGNUM* bn_e =
        BN_bin2bn(reinterpret_cast<const unsigned char*>(e.data()), int(e.size()), nullptr);
    OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n);
    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e);
    OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr);
    EVP_PKEY* key = nullptr;
    EVP_PKEY_fromdata_init(ctx);
    EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params);
    bool ok = false;
    if (key) {
      EVP_MD_CTX* md = EVP_MD_CTX_new();
      EVP_DigestVerifyInit(md, nullptr, EVP_sha256(), nullptr, key);
      ok = EVP_DigestVerify(md, reinterpret_cast<const unsigned char*>(jwt.signature.data()),
                            jwt.signature.size(),
                            reinterpret_cast<const unsigned char*>(jwt.signed_part.data()),
                            jwt.signed_part.size()) == 1;
      EVP_MD_CTX_free(md);
    }
    EVP_PKEY_free(key);
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn_n);
    BN_free(bn_e);
    return ok;
  }
  return false;
}

SimConfig AdminConfig() {
  SimConfig c;
  c.admin_enabled = true;
  return c;
}

class OidcTest : public ::testing::Test {
 protected:
  OidcTest() : identity_(clock_, kTenant, "contoso.example"), model_(clock_, AdminConfig()) {
    SimApp app;
    app.client_id = kClient;
    app.client_secret = kSecret;
    app.redirect_uris = {kRedirect};
    app.post_logout_redirect_uris = {"http://app.test/bye"};
    identity_.AddApp(app);
    approver_ = handler_.oidc().AddTestUser(
        {"approver@contoso.example", "Avery Approver", {"Autopilot Approvers"}});
    viewer_ = handler_.oidc().AddTestUser(
        {"viewer@contoso.example", "Vic <Viewer>", {"Autopilot Viewers", "Autopilot Users"}});
  }

  Response Send(http::verb method, const std::string& path, const std::string& query = "",
                const std::string& body = "", const std::string& authorization = "") {
    InboundRequest req;
    req.message.method(method);
    req.message.target(query.empty() ? path : path + "?" + query);
    req.message.version(11);
    req.message.set(http::field::host, kHost);
    if (!authorization.empty()) req.message.set(http::field::authorization, authorization);
    req.message.body() = body;
    req.path = path;
    req.query = query;
    Response out;
    handler_.Handle(std::move(req), [&](AnyResponse res, std::string_view) {
      auto& r = std::get<StringResponse>(res);
      out.status = r.result_int();
      out.body = r.body();
      for (const auto& field : r) {
        std::string name(field.name_string());
        for (char& c : name) c = char(std::tolower(static_cast<unsigned char>(c)));
        out.headers[name] = std::string(field.value());
      }
    });
    return out;
  }

  static Params AuthParams(Params extra = {}) {
    Params p = {{"client_id", kClient},
                {"response_type", "code"},
                {"redirect_uri", kRedirect},
                {"scope", "openid profile offline_access User.Read"},
                {"state", "st-123"},
                {"nonce", "n-456"},
                {"code_challenge", kChallenge},
                {"code_challenge_method", "S256"}};
    for (auto& [k, v] : extra) p[k] = v;
    return p;
  }

  Response AuthorizeGet(const Params& params, const std::string& tenant = kTenant) {
    return Send(http::verb::get, "/" + tenant + "/oauth2/v2.0/authorize", Encode(params));
  }

  // What the browser does on the picker: post the form's hidden fields and the chosen button.
  Response Pick(const Response& page, const std::string& oid) {
    Params form = HiddenFields(page.body);
    form["user"] = oid;
    return Send(http::verb::post, std::string("/") + kTenant + "/oauth2/v2.0/authorize", "",
                Encode(form));
  }

  // Runs authorize and the picker for `oid`; returns the code from the redirect.
  std::string CodeFor(const std::string& oid, Params extra = {}) {
    Response page = AuthorizeGet(AuthParams(std::move(extra)));
    EXPECT_EQ(page.status, 200) << page.body;
    Response redirect = Pick(page, oid);
    EXPECT_EQ(redirect.status, 302) << redirect.body;
    return QueryOf(redirect.Header("location"))["code"];
  }

  Response Redeem(const std::string& code, const std::string& verifier = kVerifier,
                  const std::string& redirect_uri = kRedirect) {
    Params form = {{"client_id", kClient},
                   {"client_secret", kSecret},
                   {"grant_type", "authorization_code"},
                   {"code", code},
                   {"redirect_uri", redirect_uri},
                   {"code_verifier", verifier}};
    return Send(http::verb::post, std::string("/") + kTenant + "/oauth2/v2.0/token", "",
                Encode(form));
  }

  json Jwks() {
    return Send(http::verb::get, std::string("/") + kTenant + "/discovery/v2.0/keys").Json();
  }

  ManualClock clock_;
  Identity identity_;
  GraphModel model_;
  SimHandler handler_{identity_, model_, clock_};
  TestUser approver_, viewer_;
};

TEST_F(OidcTest, DiscoveryNamesTheEndpointsUnderTheCalledHost) {
  // Asked under the domain: every URL still names the tenant GUID, as Entra does.
  Response r = Send(http::verb::get, "/contoso.example/v2.0/.well-known/openid-configuration");
  ASSERT_EQ(r.status, 200) << r.body;
  json d = r.Json();
  std::string root = std::string(kBase) + "/" + kTenant;
  EXPECT_EQ(d["issuer"], root + "/v2.0");
  EXPECT_EQ(d["authorization_endpoint"], root + "/oauth2/v2.0/authorize");
  EXPECT_EQ(d["token_endpoint"], root + "/oauth2/v2.0/token");
  EXPECT_EQ(d["jwks_uri"], root + "/discovery/v2.0/keys");
  EXPECT_EQ(d["end_session_endpoint"], root + "/oauth2/v2.0/logout");
  EXPECT_EQ(d["response_types_supported"], json({"code"}));
  EXPECT_EQ(d["response_modes_supported"], json({"query", "form_post"}));
  EXPECT_EQ(d["subject_types_supported"], json({"pairwise"}));
  EXPECT_EQ(d["id_token_signing_alg_values_supported"], json({"RS256"}));
  EXPECT_EQ(d["code_challenge_methods_supported"], json({"S256", "plain"}));
  EXPECT_NE(std::find(d["scopes_supported"].begin(), d["scopes_supported"].end(), "openid"),
            d["scopes_supported"].end());
  EXPECT_NE(std::find(d["claims_supported"].begin(), d["claims_supported"].end(), "groups"),
            d["claims_supported"].end());

  handler_.oidc().set_public_base_url("https://login.example/");
  EXPECT_EQ(
      Send(http::verb::get, std::string("/") + kTenant + "/v2.0/.well-known/openid-configuration")
          .Json()["issuer"],
      std::string("https://login.example/") + kTenant + "/v2.0");

  Response unknown = Send(http::verb::get, "/other.example/v2.0/.well-known/openid-configuration");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(unknown.Json()["error_codes"][0], 90002);
  EXPECT_EQ(Send(http::verb::post, std::string("/") + kTenant + "/discovery/v2.0/keys").status,
            405);
}

TEST_F(OidcTest, CodeFlowWithPkceSignsInThePickedUser) {
  Response page = AuthorizeGet(AuthParams());
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_EQ(page.Header("content-type"), "text/html; charset=utf-8");
  // The picker lists every test user with UPN and group names, one button each.
  EXPECT_NE(page.body.find("Avery Approver"), std::string::npos);
  EXPECT_NE(page.body.find("approver@contoso.example"), std::string::npos);
  EXPECT_NE(page.body.find("Autopilot Approvers"), std::string::npos);
  EXPECT_NE(page.body.find("Vic &lt;Viewer&gt;"), std::string::npos);
  EXPECT_NE(page.body.find("Autopilot Users, Autopilot Viewers"), std::string::npos);
  EXPECT_NE(page.body.find("name=\"user\" value=\"" + approver_.oid + "\""), std::string::npos);
  EXPECT_NE(page.body.find("method=\"post\""), std::string::npos);
  Params hidden = HiddenFields(page.body);
  EXPECT_EQ(hidden["state"], "st-123");
  EXPECT_EQ(hidden["redirect_uri"], kRedirect);
  EXPECT_EQ(hidden["code_challenge"], kChallenge);

  Response redirect = Pick(page, approver_.oid);
  ASSERT_EQ(redirect.status, 302) << redirect.body;
  std::string location = redirect.Header("location");
  ASSERT_TRUE(location.starts_with(std::string(kRedirect) + "?")) << location;
  Params back = QueryOf(location);
  EXPECT_EQ(back["state"], "st-123");
  ASSERT_FALSE(back["code"].empty());

  clock_.Advance(std::chrono::seconds(30));  // within the code's 60 s
  Response token = Redeem(back["code"]);
  ASSERT_EQ(token.status, 200) << token.body;
  json t = token.Json();
  EXPECT_EQ(t["token_type"], "Bearer");
  EXPECT_EQ(t["expires_in"], Identity::kTokenLifetimeSeconds);
  EXPECT_EQ(t["ext_expires_in"], Identity::kTokenLifetimeSeconds);
  EXPECT_EQ(t["scope"], "User.Read openid profile");
  ASSERT_TRUE(t["access_token"].is_string());
  std::string id_token = t["id_token"];
  EXPECT_TRUE(VerifyWithJwks(id_token, Jwks()));

  Jwt jwt = Decode(id_token);
  EXPECT_EQ(jwt.header["typ"], "JWT");
  EXPECT_EQ(jwt.header["alg"], "RS256");
  EXPECT_EQ(jwt.header["kid"], handler_.oidc().signing_keys().CurrentKid());
  const json& c = jwt.payload;
  EXPECT_EQ(c["aud"], kClient);
  EXPECT_EQ(c["iss"], std::string(kBase) + "/" + kTenant + "/v2.0");
  EXPECT_EQ(c["tid"], kTenant);
  EXPECT_EQ(c["oid"], approver_.oid);
  EXPECT_EQ(c["nonce"], "n-456");
  EXPECT_EQ(c["preferred_username"], "approver@contoso.example");
  EXPECT_EQ(c["name"], "Avery Approver");
  EXPECT_EQ(c["ver"], "2.0");
  int64_t now = clock_.NowMs() / 1000;
  EXPECT_EQ(c["iat"], now);
  EXPECT_EQ(c["nbf"], now);
  EXPECT_EQ(c["exp"], now + 3600);
  EXPECT_EQ(c["groups"], json({approver_.groups[0].second}));
  EXPECT_EQ(approver_.groups[0].first, "Autopilot Approvers");
  EXPECT_EQ(c["sub"].get<std::string>().size(), 43u);  // base64url SHA-256
  EXPECT_NE(c["sub"], approver_.oid);
  for (const char* claim : {"uti", "sid", "aio", "rh"}) {
    EXPECT_TRUE(c[claim].is_string() && !c[claim].get<std::string>().empty()) << claim;
  }
  EXPECT_FALSE(c.contains("_claim_names"));

  // The access token is the user's: /me works, and it carries no application roles.
  std::string bearer = "Bearer " + t["access_token"].get<std::string>();
  Response me = Send(http::verb::post, "/v1.0/me/getMemberObjects", "",
                     R"({"securityEnabledOnly":true})", bearer);
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(me.Json()["value"], json({approver_.groups[0].second}));
  EXPECT_EQ(Send(http::verb::get, "/v1.0/deviceManagement/importedWindowsAutopilotDeviceIdentities",
                 "", "", bearer)
                .status,
            403);
  // An app-only token has no "me".
  SimApp app_only;
  app_only.client_id = "daemon";
  app_only.roles = {"User.Read.All"};
  identity_.AddApp(app_only);
  Response daemon =
      Send(http::verb::post, "/v1.0/me/getMemberObjects", "", R"({"securityEnabledOnly":true})",
           "Bearer " + identity_.IssueToken("daemon")->access_token);
  EXPECT_EQ(daemon.status, 400);
}

TEST_F(OidcTest, SubIsPairwisePerApp) {
  SimApp other;
  other.client_id = "other-app";
  other.client_secret = "other-secret";
  other.redirect_uris = {kRedirect};
  identity_.AddApp(other);
  auto sub_for = [&](const std::string& client, const std::string& secret) {
    Response page = AuthorizeGet(AuthParams({{"client_id", client}}));
    Response redirect = Pick(page, viewer_.oid);
    Params form = {{"client_id", client},
                   {"client_secret", secret},
                   {"grant_type", "authorization_code"},
                   {"code", QueryOf(redirect.Header("location"))["code"]},
                   {"redirect_uri", kRedirect},
                   {"code_verifier", kVerifier}};
    Response token =
        Send(http::verb::post, std::string("/") + kTenant + "/oauth2/v2.0/token", "", Encode(form));
    return Decode(token.Json()["id_token"]).payload["sub"];
  };
  json first = sub_for(kClient, kSecret);
  EXPECT_EQ(sub_for(kClient, kSecret), first);  // stable
  EXPECT_NE(sub_for("other-app", "other-secret"), first);
}

TEST_F(OidcTest, FormPostDeliversCodeAndStateByAnAutoSubmittingForm) {
  Response page = AuthorizeGet(AuthParams({{"response_mode", "form_post"}}));
  ASSERT_EQ(page.status, 200);
  Response answer = Pick(page, viewer_.oid);
  ASSERT_EQ(answer.status, 200) << answer.body;
  EXPECT_EQ(answer.Header("location"), "");
  EXPECT_NE(answer.body.find(std::string("action=\"") + kRedirect + "\""), std::string::npos);
  EXPECT_NE(answer.body.find("method=\"post\""), std::string::npos);
  EXPECT_NE(answer.body.find("document.forms[0].submit()"), std::string::npos);
  EXPECT_NE(answer.body.find("<noscript>"), std::string::npos);
  Params fields = HiddenFields(answer.body);
  EXPECT_EQ(fields["state"], "st-123");
  ASSERT_FALSE(fields["code"].empty());
  Response token = Redeem(fields["code"]);
  ASSERT_EQ(token.status, 200) << token.body;
  EXPECT_EQ(Decode(token.Json()["id_token"]).payload["oid"], viewer_.oid);
}

TEST_F(OidcTest, ReplayedCodeIsRefusedAndTheFirstTokenStaysValid) {
  std::string code = CodeFor(approver_.oid);
  Response first = Redeem(code);
  ASSERT_EQ(first.status, 200) << first.body;
  Response replay = Redeem(code);
  EXPECT_EQ(replay.status, 400);
  EXPECT_EQ(replay.Json()["error"], "invalid_grant");
  EXPECT_EQ(replay.Json()["error_codes"][0], 54005);
  EXPECT_NE(replay.Json()["error_description"].get<std::string>().find("already redeemed"),
            std::string::npos);
  EXPECT_TRUE(identity_.Authenticate(first.Json()["access_token"]).has_value());
  EXPECT_EQ(Redeem("made-up-code").Json()["error"], "invalid_grant");
}

TEST_F(OidcTest, WrongVerifierIsRefused) {
  std::string code = CodeFor(approver_.oid);
  Response wrong = Redeem(code, "x" + std::string(kVerifier).substr(1));
  EXPECT_EQ(wrong.status, 400);
  EXPECT_EQ(wrong.Json()["error"], "invalid_grant");
  EXPECT_EQ(wrong.Json()["error_codes"][0], 501481);
  EXPECT_EQ(Redeem(code, "").Json()["error_codes"][0], 900144);
  // A failed attempt does not spend the code.
  EXPECT_EQ(Redeem(code).status, 200);

  // plain: the verifier is the challenge itself.
  std::string plain =
      CodeFor(approver_.oid, {{"code_challenge", kVerifier}, {"code_challenge_method", "plain"}});
  EXPECT_EQ(Redeem(plain, kChallenge).Json()["error_codes"][0], 501481);
  EXPECT_EQ(Redeem(plain, kVerifier).status, 200);
}

TEST_F(OidcTest, ExpiredCodeIsRefused) {
  std::string code = CodeFor(approver_.oid);
  clock_.Advance(std::chrono::milliseconds(OidcProvider::kCodeLifetimeMs));
  Response r = Redeem(code);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.Json()["error"], "invalid_grant");
  EXPECT_EQ(r.Json()["error_codes"][0], 70008);
}

TEST_F(OidcTest, RedirectUriMustMatch) {
  // At authorize: an unregistered redirect URI gets a page, never a redirect to it.
  Response page = AuthorizeGet(AuthParams({{"redirect_uri", "http://evil.test/cb"}}));
  EXPECT_EQ(page.status, 400);
  EXPECT_EQ(page.Header("location"), "");
  EXPECT_NE(page.body.find("AADSTS50011"), std::string::npos);
  EXPECT_NE(page.body.find("http://evil.test/cb"), std::string::npos);

  // At the token endpoint: the URI of the authorization request, exactly.
  std::string code = CodeFor(approver_.oid);
  Response r = Redeem(code, kVerifier, std::string(kRedirect) + "/");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.Json()["error"], "invalid_grant");
  EXPECT_EQ(r.Json()["error_codes"][0], 50011);
  EXPECT_EQ(Redeem(code).status, 200);
}

TEST_F(OidcTest, CodeIsBoundToItsClientAndClientMustAuthenticate) {
  std::string code = CodeFor(approver_.oid);
  Params form = {
      {"client_id", kClient}, {"client_secret", "wrong"},  {"grant_type", "authorization_code"},
      {"code", code},         {"redirect_uri", kRedirect}, {"code_verifier", kVerifier}};
  const std::string token_path = std::string("/") + kTenant + "/oauth2/v2.0/token";
  Response bad_secret = Send(http::verb::post, token_path, "", Encode(form));
  EXPECT_EQ(bad_secret.status, 401);
  EXPECT_EQ(bad_secret.Json()["error_codes"][0], 7000215);

  SimApp other;
  other.client_id = "other-app";
  other.client_secret = "other-secret";
  identity_.AddApp(other);
  form["client_id"] = "other-app";
  form["client_secret"] = "other-secret";
  Response other_client = Send(http::verb::post, token_path, "", Encode(form));
  EXPECT_EQ(other_client.status, 400);
  EXPECT_EQ(other_client.Json()["error"], "invalid_grant");

  // client_secret_basic works as well as the form fields.
  form.erase("client_secret");
  form["client_id"] = kClient;
  std::string basic = "Basic " + Base64Encode(std::string(kClient) + ":" + kSecret);
  Response ok = Send(http::verb::post, token_path, "", Encode(form), basic);
  EXPECT_EQ(ok.status, 200) << ok.body;
}

TEST_F(OidcTest, UnknownClientGetsAnErrorPage) {
  Response r = AuthorizeGet(AuthParams({{"client_id", "nobody"}}));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.Header("location"), "");
  EXPECT_EQ(r.Header("content-type"), "text/html; charset=utf-8");
  EXPECT_NE(r.body.find("AADSTS700016"), std::string::npos);
  EXPECT_NE(r.body.find("&#39;nobody&#39;"), std::string::npos);
  EXPECT_NE(AuthorizeGet(AuthParams(), "other.example").body.find("AADSTS90002"),
            std::string::npos);
}

TEST_F(OidcTest, OtherErrorsGoBackToTheClient) {
  Response no_openid = AuthorizeGet(AuthParams({{"scope", "profile User.Read"}}));
  ASSERT_EQ(no_openid.status, 302);
  Params back = QueryOf(no_openid.Header("location"));
  EXPECT_EQ(back["error"], "invalid_scope");
  EXPECT_EQ(back["state"], "st-123");
  EXPECT_NE(back["error_description"].find("AADSTS70011"), std::string::npos);

  Response bad_method = AuthorizeGet(AuthParams({{"code_challenge_method", "S512"}}));
  ASSERT_EQ(bad_method.status, 302);
  EXPECT_EQ(QueryOf(bad_method.Header("location"))["error"], "invalid_request");

  Response token_type = AuthorizeGet(AuthParams({{"response_type", "token"}}));
  EXPECT_EQ(QueryOf(token_type.Header("location"))["error"], "unsupported_response_type");

  // prompt=none without a user to sign in silently.
  Response silent = AuthorizeGet(AuthParams({{"prompt", "none"}}));
  EXPECT_EQ(QueryOf(silent.Header("location"))["error"], "login_required");
}

TEST_F(OidcTest, LoginHintHighlightsAUserAndAutoLoginSkipsThePicker) {
  Response page = AuthorizeGet(AuthParams({{"login_hint", "VIEWER@contoso.example"}}));
  ASSERT_EQ(page.status, 200);
  std::string viewer_button = "value=\"" + viewer_.oid + "\" class=\"suggested\" autofocus";
  EXPECT_NE(page.body.find(viewer_button), std::string::npos);
  EXPECT_EQ(page.body.find("value=\"" + approver_.oid + "\" class=\"suggested\""),
            std::string::npos);

  SimApp app = *identity_.FindApp(kClient);
  app.auto_login = true;
  identity_.AddApp(app);
  Response at_once = AuthorizeGet(AuthParams({{"login_hint", "viewer@contoso.example"}}));
  ASSERT_EQ(at_once.status, 302) << at_once.body;
  Response token = Redeem(QueryOf(at_once.Header("location"))["code"]);
  ASSERT_EQ(token.status, 200);
  EXPECT_EQ(Decode(token.Json()["id_token"]).payload["oid"], viewer_.oid);
  // prompt=login still asks; an unknown hint shows the page too.
  EXPECT_EQ(
      AuthorizeGet(AuthParams({{"login_hint", "viewer@contoso.example"}, {"prompt", "login"}}))
          .status,
      200);
  EXPECT_EQ(AuthorizeGet(AuthParams({{"login_hint", "nobody@contoso.example"}})).status, 200);
}

TEST_F(OidcTest, LoginHintIsEscapedOnThePage) {
  const std::string hint = "<script>alert(1)</script>\"'&";
  Response page = AuthorizeGet(AuthParams({{"login_hint", hint}, {"state", "<b>s</b>"}}));
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(page.body.find("<script>alert"), std::string::npos);
  EXPECT_EQ(page.body.find("<b>s</b>"), std::string::npos);
  EXPECT_NE(page.body.find("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;"),
            std::string::npos);
  // The hidden fields still carry the exact values.
  Params hidden = HiddenFields(page.body);
  EXPECT_EQ(hidden["login_hint"], hint);
  EXPECT_EQ(hidden["state"], "<b>s</b>");
  EXPECT_NE(page.Header("content-security-policy").find("default-src 'none'"), std::string::npos);
}

TEST_F(OidcTest, OverageUserGetsClaimSourcesInsteadOfGroups) {
  TestUser overage = handler_.oidc().AddTestUser(DefaultTestUsers("contoso.example")[4]);
  ASSERT_EQ(overage.upn, "overage@contoso.example");
  ASSERT_EQ(overage.groups.size(), 210u);
  Response token = Redeem(CodeFor(overage.oid));
  ASSERT_EQ(token.status, 200) << token.body;
  json c = Decode(token.Json()["id_token"]).payload;
  EXPECT_FALSE(c.contains("groups"));
  EXPECT_EQ(c["_claim_names"], json({{"groups", "src1"}}));
  EXPECT_EQ(c["_claim_sources"]["src1"]["endpoint"],
            "https://graph.microsoft.com/v1.0/users/" + overage.oid + "/getMemberObjects");
  // The client resolves the overage through Graph with the user's token.
  Response me =
      Send(http::verb::post, "/v1.0/me/getMemberObjects", "", R"({"securityEnabledOnly":true})",
           "Bearer " + token.Json()["access_token"].get<std::string>());
  EXPECT_EQ(me.Json()["value"].size(), 210u);

  // The limit is configurable: two groups are too many with a limit of one.
  handler_.oidc().set_group_overage_limit(1);
  json viewer = Decode(Redeem(CodeFor(viewer_.oid)).Json()["id_token"]).payload;
  EXPECT_FALSE(viewer.contains("groups"));
  EXPECT_TRUE(viewer.contains("_claim_names"));
  EXPECT_EQ(Decode(Redeem(CodeFor(approver_.oid)).Json()["id_token"]).payload["groups"].size(), 1u);

  // Without group claims, neither.
  SimApp app = *identity_.FindApp(kClient);
  app.group_claims = false;
  identity_.AddApp(app);
  json none = Decode(Redeem(CodeFor(viewer_.oid)).Json()["id_token"]).payload;
  EXPECT_FALSE(none.contains("groups"));
  EXPECT_FALSE(none.contains("_claim_names"));
}

TEST_F(OidcTest, KeyRotationKeepsThePreviousKeyPublished) {
  std::string old_token = Redeem(CodeFor(approver_.oid)).Json()["id_token"];
  std::string first_kid = Decode(old_token).header["kid"];

  Response rotated = Send(http::verb::post, "/_sim/rotate-signing-key");
  ASSERT_EQ(rotated.status, 200) << rotated.body;
  std::string second_kid = rotated.Json()["kid"];
  EXPECT_NE(second_kid, first_kid);
  json jwks = Jwks();
  ASSERT_EQ(jwks["keys"].size(), 2u);
  EXPECT_EQ(jwks["keys"][0]["kid"], first_kid);
  EXPECT_EQ(jwks["keys"][1]["kid"], second_kid);
  for (const json& k : jwks["keys"]) {
    EXPECT_EQ(k["kty"], "RSA");
    EXPECT_EQ(k["use"], "sig");
    EXPECT_EQ(k["alg"], "RS256");
    EXPECT_EQ(k["e"], "AQAB");
    EXPECT_EQ(B64uDecode(k["n"].get<std::string>())->size(), 256u);  // RSA 2048
  }
  std::string new_token = Redeem(CodeFor(approver_.oid)).Json()["id_token"];
  EXPECT_EQ(Decode(new_token).header["kid"], second_kid);
  EXPECT_TRUE(VerifyWithJwks(new_token, jwks));
  EXPECT_TRUE(VerifyWithJwks(old_token, jwks));

  std::string third_kid = handler_.oidc().RotateSigningKey();
  jwks = Jwks();
  ASSERT_EQ(jwks["keys"].size(), 2u);
  EXPECT_EQ(jwks["keys"][0]["kid"], second_kid);
  EXPECT_EQ(jwks["keys"][1]["kid"], third_kid);
  EXPECT_FALSE(VerifyWithJwks(old_token, jwks));
  EXPECT_TRUE(VerifyWithJwks(new_token, jwks));
}

TEST_F(OidcTest, LogoutRedirectsOnlyToRegisteredUris) {
  const std::string path = std::string("/") + kTenant + "/oauth2/v2.0/logout";
  Response back = Send(http::verb::get, path,
                       Encode({{"post_logout_redirect_uri", kRedirect}, {"state", "s1"}}));
  ASSERT_EQ(back.status, 302);
  EXPECT_EQ(back.Header("location"), std::string(kRedirect) + "?state=s1");
  // The extra post-logout URI, named through the id_token_hint's app.
  std::string id_token = Redeem(CodeFor(approver_.oid)).Json()["id_token"];
  Response bye = Send(
      http::verb::get, path,
      Encode({{"post_logout_redirect_uri", "http://app.test/bye"}, {"id_token_hint", id_token}}));
  ASSERT_EQ(bye.status, 302);
  EXPECT_EQ(bye.Header("location"), "http://app.test/bye");

  Response elsewhere =
      Send(http::verb::get, path,
           Encode({{"post_logout_redirect_uri", "http://evil.test/<x>"}, {"state", "s1"}}));
  EXPECT_EQ(elsewhere.status, 200);
  EXPECT_EQ(elsewhere.Header("location"), "");
  EXPECT_NE(elsewhere.body.find("signed out"), std::string::npos);
  EXPECT_NE(elsewhere.body.find("http://evil.test/&lt;x&gt;"), std::string::npos);
  // Registered for another app only: not for this one.
  SimApp other;
  other.client_id = "other-app";
  other.redirect_uris = {"http://other.test/cb"};
  identity_.AddApp(other);
  EXPECT_EQ(
      Send(http::verb::get, path,
           Encode({{"post_logout_redirect_uri", "http://other.test/cb"}, {"client_id", kClient}}))
          .status,
      200);
  EXPECT_EQ(Send(http::verb::get, path, "").status, 200);
}

TEST_F(OidcTest, UsersAdminRouteAndStableIds) {
  // The documented derivation: uuid5(NAMESPACE_URL, "apm-tenant-sim:<kind>:<name>").
  EXPECT_EQ(StableObjectId("group", "Autopilot Approvers"), "2e92a25c-d807-50fe-8a93-ffc699f0aefb");
  EXPECT_EQ(approver_.oid, "bdd54015-b437-58cb-b688-cf11dbd74139");
  EXPECT_EQ(approver_.groups[0].second, "2e92a25c-d807-50fe-8a93-ffc699f0aefb");
  // A group that exists already (here: the profile group) keeps its id.
  TestUser u =
      handler_.oidc().AddTestUser({"dev@contoso.example", "Dev", {SimConfig().profile_group_name}});
  EXPECT_EQ(u.groups[0].second, model_.profile_group_id());

  Response r = Send(http::verb::get, "/_sim/users");
  ASSERT_EQ(r.status, 200);
  json body = r.Json();
  ASSERT_EQ(body["users"].size(), 3u);
  EXPECT_EQ(body["users"][0]["userPrincipalName"], "approver@contoso.example");
  EXPECT_EQ(body["users"][0]["id"], approver_.oid);
  EXPECT_EQ(body["users"][0]["memberOf"], json({approver_.groups[0].second}));
  bool listed = false;
  for (const json& g : body["groups"]) {
    listed = listed ||
             (g["id"] == approver_.groups[0].second && g["displayName"] == "Autopilot Approvers");
  }
  EXPECT_TRUE(listed);
}

TEST(TestUserSpecTest, ParsesTheCommandLineForm) {
  Result<TestUserSpec> full = ParseTestUserSpec("ann@c.example|Ann Example| G1 ,G2,,");
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(full->upn, "ann@c.example");
  EXPECT_EQ(full->display_name, "Ann Example");
  EXPECT_EQ(full->groups, (std::vector<std::string>{"G1", "G2"}));
  Result<TestUserSpec> bare = ParseTestUserSpec("bob@c.example");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->display_name, "bob");
  EXPECT_TRUE(bare->groups.empty());
  EXPECT_FALSE(ParseTestUserSpec("no-at-sign|X").ok());
  EXPECT_FALSE(ParseTestUserSpec("a@b|c|d|e|f").ok());
  Result<TestUserSpec> admin =
      ParseTestUserSpec("a@b|Ada||Global Administrator, Intune Administrator");
  ASSERT_TRUE(admin.ok());
  EXPECT_TRUE(admin->groups.empty());
  EXPECT_EQ(admin->directory_roles,
            (std::vector<std::string>{"Global Administrator", "Intune Administrator"}));

  std::vector<TestUserSpec> defaults = DefaultTestUsers("contoso.example");
  ASSERT_EQ(defaults.size(), 6u);
  EXPECT_EQ(defaults[5].upn, "admin@contoso.example");
  EXPECT_EQ(defaults[5].directory_roles, std::vector<std::string>{"Global Administrator"});
  EXPECT_EQ(defaults[0].groups, std::vector<std::string>{"Autopilot Approvers"});
  EXPECT_TRUE(defaults[3].groups.empty());
  EXPECT_EQ(defaults[4].groups.size(), 210u);
}

}  // namespace
}  // namespace apm::sim
