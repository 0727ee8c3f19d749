// The simulator's set-up routes: the device code flow, app registrations, service principals,
// admin consent (refused to users without the role), and the groups claim limited to groups
// assigned to the app.
#include <gtest/gtest.h>

#include <sstream>

#include "core/base64.h"
#include "server/testing/test_certificate.h"
#include "tenantsim/testing/graph_test.h"

namespace apm::sim {
namespace {

class SetupRoutesTest : public GraphTest {
 protected:
  SetupRoutesTest() {
    SimApp cli;
    cli.client_id = kGraphCliAppId;
    cli.display_name = "Microsoft Graph Command Line Tools";
    cli.public_client = true;
    identity_.AddApp(cli);
    admin_ = handler_.oidc().AddTestUser(
        {"ada@contoso.example", "Ada Admin", {}, {"Global Administrator"}});
    user_ = handler_.oidc().AddTestUser({"uma@contoso.example", "Uma User", {"Autopilot Users"}});
  }

  // The token request that polls for `device_code`.
  static std::string Poll(const std::string& device_code) {
    return "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&client_id=" +
           std::string(kGraphCliAppId) + "&device_code=" + device_code;
  }

  // The device code flow as a client runs it, with `user` entering the code; the token answer.
  Answer SignIn(const TestUser& user) {
    Answer code = Call("POST", "/tid-1/oauth2/v2.0/devicecode",
                       "client_id=" + std::string(kGraphCliAppId) +
                           "&scope=openid%20Application.ReadWrite.All%20"
                           "AppRoleAssignment.ReadWrite.All%20Group.ReadWrite.All",
                       "");
    EXPECT_EQ(code.status, 200) << code.body;
    EXPECT_EQ(code.body["verification_uri"], "http://sim.test:9090/devicelogin");
    EXPECT_EQ(code.body["expires_in"], 900);
    const std::string poll = Poll(code.body["device_code"].get<std::string>());
    Answer pending = Call("POST", "/tid-1/oauth2/v2.0/token", poll, "");
    EXPECT_EQ(pending.status, 400);
    EXPECT_EQ(pending.body["error"], "authorization_pending");
    EXPECT_EQ(pending.body["error_codes"][0], 70016);
    EXPECT_EQ(Call("POST", "/devicelogin", "code=WRONGCODE&user=" + user.oid, "").status, 400);
    EXPECT_EQ(Call("POST", "/devicelogin",
                   "code=" + code.body["user_code"].get<std::string>() + "&user=" + user.oid, "")
                  .status,
              200);
    Answer token = Call("POST", "/tid-1/oauth2/v2.0/token", poll, "");
    EXPECT_EQ(token.status, 200) << token.body;
    // One token per code.
    Answer again = Call("POST", "/tid-1/oauth2/v2.0/token", poll, "");
    EXPECT_EQ(again.body["error"], "bad_verification_code");
    return token;
  }

  TestUser admin_, user_;
};

TEST_F(SetupRoutesTest, ADeviceCodeExpiresAfterFifteenMinutes) {
  Answer code = Call("POST", "/organizations/oauth2/v2.0/devicecode",
                     "client_id=" + std::string(kGraphCliAppId) + "&scope=User.Read", "");
  ASSERT_EQ(code.status, 200) << code.body;
  clock_.Advance(milliseconds(901'000));
  Answer late = Call("POST", "/organizations/oauth2/v2.0/token",
                     Poll(code.body["device_code"].get<std::string>()), "");
  EXPECT_EQ(late.body["error"], "expired_token");
  // A confidential app cannot use the flow without its credential.
  EXPECT_EQ(Call("POST", "/tid-1/oauth2/v2.0/devicecode", "client_id=app-1&scope=User.Read", "")
                .body["error_codes"][0],
            7000218);
}

TEST_F(SetupRoutesTest, AUserWhoCannotConsentIsShownNeedAdminApprovalAndTheClientIsDeclined) {
  Answer code = Call(
      "POST", "/tid-1/oauth2/v2.0/devicecode",
      "client_id=" + std::string(kGraphCliAppId) + "&scope=openid%20Application.ReadWrite.All", "");
  ASSERT_EQ(code.status, 200) << code.body;
  EXPECT_EQ(Call("POST", "/devicelogin",
                 "code=" + code.body["user_code"].get<std::string>() + "&user=" + user_.oid, "")
                .status,
            200);
  Answer poll = Call("POST", "/tid-1/oauth2/v2.0/token",
                     Poll(code.body["device_code"].get<std::string>()), "");
  EXPECT_EQ(poll.body["error"], "authorization_declined") << poll.body;
  // Scopes any user may consent to are granted to them.
  Answer own = Call("POST", "/tid-1/oauth2/v2.0/devicecode",
                    "client_id=" + std::string(kGraphCliAppId) + "&scope=User.Read", "");
  EXPECT_EQ(Call("POST", "/devicelogin",
                 "code=" + own.body["user_code"].get<std::string>() + "&user=" + user_.oid, "")
                .status,
            200);
  EXPECT_EQ(
      Call("POST", "/tid-1/oauth2/v2.0/token", Poll(own.body["device_code"].get<std::string>()), "")
          .status,
      200);
}

TEST_F(SetupRoutesTest, AnAdminRegistersAnAppGrantsConsentAndTheAppGetsItsRoles) {
  Answer signed_in = SignIn(admin_);
  const std::string admin = signed_in.body["access_token"];
  EXPECT_FALSE(signed_in.body["id_token"].get<std::string>().empty());
  Answer roles = Call("GET", "/v1.0/me/memberOf", "", admin);
  ASSERT_EQ(roles.status, 200) << roles.body;
  EXPECT_EQ(roles.body["value"][0]["roleTemplateId"], "62e90394-69f5-4237-9190-012177145e10");

  Answer app = Call("POST", "/v1.0/applications",
                    json{{"displayName", "Autopilot Manager"},
                         {"groupMembershipClaims", "ApplicationGroup"},
                         {"web", {{"redirectUris", {"https://apm.test/signin-oidc"}}}}}
                        .dump(),
                    admin);
  ASSERT_EQ(app.status, 201) << app.body;
  const std::string app_id = app.body["appId"], object_id = app.body["id"];
  EXPECT_NE(app_id, object_id);
  EXPECT_EQ(
      Call("GET", "/v1.0/applications?$filter=displayName%20eq%20'Autopilot%20Manager'", "", admin)
          .body["value"][0]["appId"],
      app_id);
  Answer secret = Call("POST", "/v1.0/applications/" + object_id + "/addPassword",
                       json{{"passwordCredential", {{"displayName", "apm"}}}}.dump(), admin);
  ASSERT_EQ(secret.status, 200) << secret.body;
  const std::string text = secret.body["secretText"];
  EXPECT_EQ(secret.body["hint"], text.substr(0, 3));
  // The secret is shown once: listed again without its text.
  EXPECT_TRUE(Call("GET", "/v1.0/applications", "", admin)
                  .body["value"][0]["passwordCredentials"][0]["secretText"]
                  .is_null());

  Answer sp = Call("POST", "/v1.0/servicePrincipals", json{{"appId", app_id}}.dump(), admin);
  ASSERT_EQ(sp.status, 201) << sp.body;
  EXPECT_EQ(Call("POST", "/v1.0/servicePrincipals", json{{"appId", app_id}}.dump(), admin).status,
            409);
  Answer grant = Call(
      "POST",
      std::string("/v1.0/servicePrincipals/") + kGraphServicePrincipalId + "/appRoleAssignedTo",
      json{{"principalId", sp.body["id"]},
           {"resourceId", kGraphServicePrincipalId},
           {"appRoleId", "7438b122-aefc-4978-80ed-43db9fcc7715"}}
          .dump(),
      admin);
  ASSERT_EQ(grant.status, 201) << grant.body;
  EXPECT_EQ(grant.body["resourceDisplayName"], "Microsoft Graph");
  Answer held = Call(
      "GET", "/v1.0/servicePrincipals/" + sp.body["id"].get<std::string>() + "/appRoleAssignments",
      "", admin);
  EXPECT_EQ(held.body["value"][0]["appRoleId"], "7438b122-aefc-4978-80ed-43db9fcc7715");

  // The app signs in with its new secret and holds the granted permission.
  Answer app_token =
      Call("POST", "/tid-1/oauth2/v2.0/token",
           "grant_type=client_credentials&client_id=" + app_id + "&client_secret=" + text +
               "&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default",
           "");
  ASSERT_EQ(app_token.status, 200) << app_token.body;
  const std::string token = app_token.body["access_token"];
  EXPECT_EQ(Call("GET", "/v1.0/devices", "", token).status, 200);
  EXPECT_EQ(Call("GET", "/v1.0/groups", "", token).status, 403);
}

TEST_F(SetupRoutesTest, CertificatesReplaceTheCollectionAndShowTheirDataOnlyWhenSelected) {
  const std::string admin = SignIn(admin_).body["access_token"];
  Answer app = Call("POST", "/v1.0/applications", json{{"displayName", "X"}}.dump(), admin);
  const std::string id = app.body["id"];
  apm::testing::TestCertificate first("first"), second("second");
  auto der = [](const std::string& pem) {
    std::string body;
    std::istringstream lines(pem);
    for (std::string line; std::getline(lines, line);) {
      if (!line.starts_with("-----")) body += line;
    }
    return body;  // PEM's base64 is the DER's
  };
  auto key = [&](const std::string& pem) {
    return json{{"type", "AsymmetricX509Cert"}, {"usage", "Verify"}, {"key", der(pem)}};
  };
  ASSERT_EQ(Call("PATCH", "/v1.0/applications/" + id,
                 json{{"keyCredentials", {key(first.certificate_pem)}}}.dump(), admin)
                .status,
            204);
  Answer listed = Call("GET", "/v1.0/applications?$filter=displayName%20eq%20'X'", "", admin);
  ASSERT_EQ(listed.body["value"][0]["keyCredentials"].size(), 1u);
  EXPECT_TRUE(listed.body["value"][0]["keyCredentials"][0]["key"].is_null());
  Answer selected = Call("GET", "/v1.0/applications/" + id + "?$select=keyCredentials", "", admin);
  ASSERT_EQ(selected.status, 200) << selected.body;
  json kept = selected.body["keyCredentials"][0];
  EXPECT_EQ(kept["key"], der(first.certificate_pem));
  // Replace-all: the kept one sent again beside the new one; both remain.
  ASSERT_EQ(Call("PATCH", "/v1.0/applications/" + id,
                 json{{"keyCredentials", {kept, key(second.certificate_pem)}}}.dump(), admin)
                .status,
            204);
  EXPECT_EQ(Call("GET", "/v1.0/applications/" + id + "?$select=keyCredentials", "", admin)
                .body["keyCredentials"]
                .size(),
            2u);
  // What is not a certificate is refused, and nothing changes.
  EXPECT_EQ(Call("PATCH", "/v1.0/applications/" + id,
                 json{{"keyCredentials",
                       {{{"type", "AsymmetricX509Cert"},
                         {"usage", "Verify"},
                         {"key", "bm90IGEgY2VydA=="}}}}}
                     .dump(),
                 admin)
                .status,
            400);
  EXPECT_EQ(identity_.FindApplication(id)->key_credentials.size(), 2u);
}

TEST_F(SetupRoutesTest, AUserWithoutTheRoleCannotGrantConsent) {
  const std::string admin = SignIn(admin_).body["access_token"];
  Answer app = Call("POST", "/v1.0/applications", json{{"displayName", "X"}}.dump(), admin);
  Answer sp =
      Call("POST", "/v1.0/servicePrincipals", json{{"appId", app.body["appId"]}}.dump(), admin);
  // An administrator consented for everyone earlier: the user may sign in to the tool.
  handler_.oidc().set_organisation_consented(true);
  const std::string user = SignIn(user_).body["access_token"];
  Answer member_of = Call("GET", "/v1.0/me/transitiveMemberOf", "", user);
  ASSERT_EQ(member_of.status, 200) << member_of.body;
  ASSERT_FALSE(member_of.body["value"].empty());  // the user's group
  for (const json& m : member_of.body["value"]) {
    EXPECT_NE(m["@odata.type"], "#microsoft.graph.directoryRole") << m;
  }
  Answer refused = Call(
      "POST",
      std::string("/v1.0/servicePrincipals/") + kGraphServicePrincipalId + "/appRoleAssignedTo",
      json{{"principalId", sp.body["id"]},
           {"resourceId", kGraphServicePrincipalId},
           {"appRoleId", "7438b122-aefc-4978-80ed-43db9fcc7715"}}
          .dump(),
      user);
  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(refused.body["error"]["code"], "Authorization_RequestDenied");
  EXPECT_EQ(refused.body["error"]["message"], "Insufficient privileges to complete the operation.");
}

TEST_F(SetupRoutesTest, ApplicationGroupClaimsCarryOnlyGroupsAssignedToTheApp) {
  const std::string admin = SignIn(admin_).body["access_token"];
  Answer app = Call("POST", "/v1.0/applications",
                    json{{"displayName", "Autopilot Manager"},
                         {"groupMembershipClaims", "ApplicationGroup"},
                         {"web", {{"redirectUris", {"https://apm.test/signin-oidc"}}}}}
                        .dump(),
                    admin);
  const std::string app_id = app.body["appId"];
  std::optional<SimPassword> secret =
      identity_.AddPassword(app.body["id"], "t", clock_.NowMs() + 86'400'000);
  const std::string sp =
      Call("POST", "/v1.0/servicePrincipals", json{{"appId", app_id}}.dump(), admin).body["id"];
  // A second group of the user's, not assigned to the app.
  handler_.oidc().AddTestUser({"uma@contoso.example", "Uma User", {"Canteen"}});
  auto id_token_groups = [&]() {
    Answer page = Call("GET",
                       "/tid-1/oauth2/v2.0/authorize?client_id=" + app_id +
                           "&response_type=code&redirect_uri=https%3A%2F%2Fapm.test%2Fsignin-oidc"
                           "&scope=openid&nonce=n&state=s",
                       "", "");
    EXPECT_EQ(page.status, 200);
    Answer picked = Call("POST", "/tid-1/oauth2/v2.0/authorize",
                         "client_id=" + app_id +
                             "&response_type=code&redirect_uri=https%3A%2F%2Fapm.test%2Fsignin-oidc"
                             "&scope=openid&nonce=n&state=s&user=" +
                             user_.oid,
                         "");
    const std::string location = picked.Header("location");
    const std::string code =
        location.substr(location.find("code=") + 5,
                        location.find('&', location.find("code=")) - location.find("code=") - 5);
    Answer token = Call("POST", "/tid-1/oauth2/v2.0/token",
                        "grant_type=authorization_code&client_id=" + app_id +
                            "&client_secret=" + secret->secret + "&code=" + code +
                            "&redirect_uri=https%3A%2F%2Fapm.test%2Fsignin-oidc",
                        "");
    EXPECT_EQ(token.status, 200) << token.body;
    const std::string id_token = token.body["id_token"];
    const size_t a = id_token.find('.'), b = id_token.find('.', a + 1);
    json claims = json::parse(*Base64UrlDecodeNoPad(id_token.substr(a + 1, b - a - 1)));
    EXPECT_TRUE(claims.contains("groups") && claims["groups"].is_array()) << claims;
    return claims.value("groups", json::array());
  };
  EXPECT_TRUE(id_token_groups().empty()) << "no group is assigned to the app yet";
  const std::string users_group = user_.groups[0].second;
  ASSERT_EQ(Call("POST", "/v1.0/servicePrincipals/" + sp + "/appRoleAssignedTo",
                 json{{"principalId", users_group},
                      {"resourceId", sp},
                      {"appRoleId", kDefaultAccessRoleId}}
                     .dump(),
                 admin)
                .status,
            201);
  EXPECT_EQ(id_token_groups(), json::array({users_group}));
}

}  // namespace
}  // namespace apm::sim
