// Sign-in and the pages' security end to end: the real apm-server with apm-tenant-sim as its
// OpenID provider (and tenant), driven by a cookie-keeping HTTP client acting as the browser. The
// authorization matrix covers every page route for every kind of visitor.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <thread>

#include "core/zip_writer.h"
#include "web_test_fixture.h"

namespace apm::itest {
namespace {

TEST_F(WebTest, AuthorizationMatrix) {
  Start();
  std::string id = Submit("MATRIX-1");
  // A diagnostics bundle from the device, so its download has something to refuse or serve.
  HttpResult bundle =
      Http("POST", base_ + "/api/v1/requests/" + id + "/diagnostics?name=ap-diagnostics-M1.zip",
           *ZipStored({{"summary.txt", "MATRIX-1\n"}}, std::chrono::system_clock::now()),
           {"Content-Type: application/zip"});
  ASSERT_EQ(bundle.status, 201) << bundle.body;
  // Visitors: browsers signed in as each kind of user, or not at all.
  std::map<std::string, std::unique_ptr<Browser>> visitors;
  for (const char* who :
       {"anonymous", "general", "approver", "viewer", "nogroups", "expired", "forged"}) {
    visitors[who] = std::make_unique<Browser>();
  }
  SignIn(*visitors["general"], "user@contoso.example");
  SignIn(*visitors["approver"], "approver@contoso.example");
  SignIn(*visitors["viewer"], "viewer@contoso.example");
  SignIn(*visitors["nogroups"], "nogroups@contoso.example");
  SignIn(*visitors["expired"], "approver@contoso.example");
  visitors["forged"]->AddCookie("apm_session", "AAAAforgedAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
  // Age the "expired" visitor's session past the idle timeout, as the clock would.
  ASSERT_EQ(std::system(("sqlite3 " + server_->data_dir() +
                         "/apm.db \"UPDATE sessions SET last_seen_at = 0 WHERE upn = "
                         "'approver@contoso.example' AND created_at = (SELECT max(created_at) "
                         "FROM sessions)\"")
                            .c_str()),
            0);

  const std::map<std::string, std::map<std::string, long>> expected_get = {
      {"/autopilot/" + id,
       {{"anonymous", 302},
        {"general", 200},
        {"approver", 200},
        {"viewer", 200},
        {"nogroups", 403},
        {"expired", 302},
        {"forged", 302}}},
      // What the device sent its helpdesk: approvers and viewers only.
      {"/autopilot/" + id + "/diagnostics/1",
       {{"anonymous", 302},
        {"general", 403},
        {"approver", 200},
        {"viewer", 200},
        {"nogroups", 403},
        {"expired", 302},
        {"forged", 302}}},
      {"/autopilot/approve-requests",
       {{"anonymous", 302},
        {"general", 403},
        {"approver", 200},
        {"viewer", 403},
        {"nogroups", 403},
        {"expired", 302},
        {"forged", 302}}},
      {"/autopilot/upload",
       {{"anonymous", 302},
        {"general", 403},
        {"approver", 200},
        {"viewer", 403},
        {"nogroups", 403},
        {"expired", 302},
        {"forged", 302}}},
      {"/autopilot/status",
       {{"anonymous", 302},
        {"general", 403},
        {"approver", 403},
        {"viewer", 200},
        {"nogroups", 403},
        {"expired", 302},
        {"forged", 302}}},
      {"/autopilot/view-imports",
       {{"anonymous", 302},
        {"general", 403},
        {"approver", 403},
        {"viewer", 200},
        {"nogroups", 403},
        {"expired", 302},
        {"forged", 302}}},
      {"/autopilot/view-imports.csv",
       {{"anonymous", 302},
        {"general", 403},
        {"approver", 403},
        {"viewer", 200},
        {"nogroups", 403},
        {"expired", 302},
        {"forged", 302}}},
      {"/autopilot/audit",
       {{"anonymous", 302},
        {"general", 403},
        {"approver", 403},
        {"viewer", 200},
        {"nogroups", 403},
        {"expired", 302},
        {"forged", 302}}},
      {"/autopilot/audit.csv",
       {{"anonymous", 302},
        {"general", 403},
        {"approver", 403},
        {"viewer", 200},
        {"nogroups", 403},
        {"expired", 302},
        {"forged", 302}}},
  };
  for (const auto& [path, by_visitor] : expected_get) {
    for (const auto& [who, status] : by_visitor) {
      Page page = visitors[who]->Get(base_ + path);
      EXPECT_EQ(page.status, status) << who << " GET " << path << "\n" << page.body;
      if (status == 302) {
        EXPECT_THAT(page.location, HasSubstr("/signin?return=")) << who << path;
      }
      if (status == 403) {
        EXPECT_THAT(page.body, HasSubstr("Access denied")) << who << path;
      }
    }
  }
  // Decisions: each visitor posts with the CSRF token of a page they may see (none: empty).
  std::string approver_csrf = Csrf(visitors["approver"]->Get(base_ + "/autopilot/" + id).body);
  std::string general_csrf = Csrf(visitors["general"]->Get(base_ + "/autopilot/" + id).body);
  ASSERT_FALSE(approver_csrf.empty());
  // Every signed-in page carries the session's token (the sign-out form), so each visitor
  // posts with their own valid token and only the role decides.
  auto own_csrf = [&](const std::string& who) {
    return Csrf(visitors[who]->Get(base_ + "/autopilot/" + id).body);
  };
  ASSERT_FALSE(own_csrf("viewer").empty());
  ASSERT_FALSE(own_csrf("nogroups").empty());
  const std::map<std::string, std::pair<std::string, long>> expected_reject = {
      {"anonymous", {"", 401}},
      {"expired", {"", 401}},
      {"forged", {"", 401}},
      {"nogroups", {own_csrf("nogroups"), 403}},
      {"viewer", {own_csrf("viewer"), 403}},
      {"general", {general_csrf, 403}},  // ApprovalMode: only approvers decide
  };
  for (const auto& [who, attempt] : expected_reject) {
    for (const char* action : {"approve", "reject"}) {
      Page page = visitors[who]->Post(base_ + "/autopilot/" + id + "/" + action,
                                      {{"csrf", attempt.first}, {"reason", "no"}});
      EXPECT_EQ(page.status, attempt.second) << who << " POST " << action << "\n" << page.body;
    }
    // Uploads and their approval need the approver role.
    for (const char* path : {"/autopilot/upload", "/autopilot/upload/approve"}) {
      Page page = visitors[who]->Post(
          base_ + path, {{"csrf", attempt.first}, {"ids", id}, {"group_tag", "Kiosk"}});
      EXPECT_EQ(page.status, attempt.second) << who << " POST " << path << "\n" << page.body;
    }
    // Sign-out needs a session and its token too.
    if (attempt.second == 401) {
      EXPECT_EQ(visitors[who]->Post(base_ + "/signout", {{"csrf", ""}}).status, 401) << who;
    }
  }
  // Another session's token does not count (the approver's token in the viewer's post).
  EXPECT_EQ(visitors["viewer"]
                ->Post(base_ + "/autopilot/" + id + "/approve", {{"csrf", approver_csrf}})
                .status,
            403);
  EXPECT_EQ(StateOf(id), "pending_approval");  // nobody above changed anything
  // The QR link of ap.exe 1.x leads to the request's page, for everyone.
  for (const auto& [who, browser] : visitors) {
    Page old_link = browser->Get(base_ + "/autopilot/" + id + "/save-information");
    EXPECT_EQ(old_link.status, 302) << who;
    EXPECT_EQ(old_link.location, base_ + "/autopilot/" + id) << who;
  }
  Page approved = visitors["approver"]->Post(
      base_ + "/autopilot/" + id + "/approve",
      {{"csrf", approver_csrf}, {"group_tag", "Kiosk"}, {"comment", "matrix"}});
  EXPECT_EQ(approved.status, 303) << approved.body;
  EXPECT_NE(StateOf(id), "pending_approval");
}

TEST_F(WebTest, CsrfAndStateChecks) {
  Start();
  Browser approver;
  SignIn(approver, "approver@contoso.example");
  std::string id = Submit("CSRF-1");
  std::string csrf = Csrf(approver.Get(base_ + "/autopilot/" + id).body);
  // No token, a wrong token, a foreign Origin: refused, nothing changes.
  EXPECT_EQ(approver.Post(base_ + "/autopilot/" + id + "/approve", {{"group_tag", "Kiosk"}}).status,
            403);
  EXPECT_EQ(approver
                .Post(base_ + "/autopilot/" + id + "/approve",
                      {{"csrf", csrf + "x"}, {"group_tag", "Kiosk"}})
                .status,
            403);
  Page cross =
      approver.Post(base_ + "/autopilot/" + id + "/approve",
                    {{"csrf", csrf}, {"group_tag", "Kiosk"}}, {"Origin: https://evil.example"});
  EXPECT_EQ(cross.status, 403);
  EXPECT_THAT(cross.body, HasSubstr("another site"));
  EXPECT_EQ(StateOf(id), "pending_approval");
  // An unknown group tag is refused; a good decision goes through once.
  EXPECT_EQ(
      approver
          .Post(base_ + "/autopilot/" + id + "/approve", {{"csrf", csrf}, {"group_tag", "Bogus"}})
          .status,
      400);
  EXPECT_EQ(
      approver
          .Post(base_ + "/autopilot/" + id + "/reject", {{"csrf", csrf}, {"reason", "wrong desk"}})
          .status,
      303);
  EXPECT_EQ(StateOf(id), "rejected");
  Page again = approver.Post(base_ + "/autopilot/" + id + "/approve",
                             {{"csrf", csrf}, {"group_tag", "Kiosk"}});
  EXPECT_EQ(again.status, 409);
  EXPECT_THAT(again.body, HasSubstr("rejected"));
  EXPECT_EQ(StateOf(id), "rejected");
}

TEST_F(WebTest, SignInAnswersCannotBeReplayedOrForeign) {
  Start();
  Browser ada;
  Page landed = SignIn(ada, "approver@contoso.example");
  EXPECT_EQ(landed.status, 302);  // to the page it came for
  // The same answer again (a replay), even with the sign-in cookie it had: refused, used once.
  std::string used_state = callback_.substr(callback_.find("state=") + 6);
  used_state = used_state.substr(0, used_state.find('&'));
  ada.AddCookie("apm_signin", used_state);
  Page replay = ada.Get(callback_);
  EXPECT_EQ(replay.status, 403);
  EXPECT_THAT(replay.body, HasSubstr("already used"));
  // An answer carried to another browser (login CSRF): refused, it started no sign-in there.
  Browser other;
  Browser eve;
  eve.Get(base_ + "/signin");
  Page provider = other.Get(base_ + "/signin");
  Page picker = other.Get(provider.location);
  auto form = HiddenFields(picker.body);
  form["user"] = oid_["approver@contoso.example"];
  Page back = other.Post(provider.location.substr(0, provider.location.find('?')), form);
  Page foreign = eve.Get(back.location);
  EXPECT_EQ(foreign.status, 403);
  // An error from the provider is shown, not a crash.
  Page error =
      ada.Get(base_ + "/signin-oidc?error=access_denied&error_description=cancelled&state=x");
  EXPECT_EQ(error.status, 403);
  EXPECT_THAT(error.body, HasSubstr("access_denied"));
  // The audit trail has the failures, with the address.
  Browser viewer;
  SignIn(viewer, "viewer@contoso.example");
  Page audit = viewer.Get(base_ + "/autopilot/audit.csv");
  EXPECT_THAT(audit.body, HasSubstr("sign_in_failed"));
  EXPECT_THAT(audit.body, HasSubstr("127.0.0.1"));
}

TEST_F(WebTest, ForgedAndBrokenTokensAreRefused) {
  Start();
  const std::map<std::string, std::string> faults = {
      {"alg-none", "&quot;none&quot; is not accepted"},
      {"hs256", "&quot;HS256&quot; is not accepted"},
      {"tampered", "signature"},
      {"expired", "expired"},
      {"wrong-audience", "another application"},
      {"wrong-nonce", "nonce"}};
  for (const auto& [fault, reason] : faults) {
    ASSERT_EQ(Http("POST", sim_->url() + "/_sim/id-token-fault", json{{"fault", fault}}.dump(),
                   {"Content-Type: application/json"})
                  .status,
              200);
    Browser b;
    Page page = SignIn(b, "approver@contoso.example");
    EXPECT_EQ(page.status, 403) << fault;
    EXPECT_THAT(page.body, HasSubstr(reason)) << fault;
    EXPECT_EQ(b.Get(base_ + "/autopilot/approve-requests").status, 302) << fault << ": no session";
  }
  Http("POST", sim_->url() + "/_sim/id-token-fault", R"({"fault":""})",
       {"Content-Type: application/json"});
  Browser good;
  SignIn(good, "approver@contoso.example");
  EXPECT_EQ(good.Get(base_ + "/autopilot/approve-requests").status, 200);
}

TEST_F(WebTest, UsersOfAnotherTenantAreRefused) {
  Start("", true, "22222222-2222-4222-8222-222222222222");
  Browser b;
  Page page = SignIn(b, "approver@contoso.example");
  EXPECT_EQ(page.status, 403);
  EXPECT_THAT(page.body, HasSubstr("another tenant"));
  EXPECT_EQ(b.Get(base_ + "/autopilot/approve-requests").status, 302);  // no session
}

TEST_F(WebTest, OverageGroupsAreResolvedThroughGraph) {
  Start("", /*approval_mode=*/false);
  std::string id = Submit("OVER-1");
  Browser user;
  Page landed = user.Follow(SignIn(user, "overage@contoso.example", "/autopilot/" + id));
  EXPECT_EQ(landed.status, 200) << landed.body;
  EXPECT_THAT(landed.body, HasSubstr("OVER-1"));
}

TEST_F(WebTest, SignInReturnsToThePageAskedFor) {
  Start();
  std::string id = Submit("RETURN-1");
  Browser b;
  Page asked = b.Get(base_ + "/autopilot/" + id + "?from=qr");
  ASSERT_EQ(asked.status, 302);
  Page provider = b.Get(asked.location);  // /signin?return=%2Fautopilot%2F…
  Page picker = b.Get(provider.location);
  auto form = HiddenFields(picker.body);
  form["user"] = oid_["approver@contoso.example"];
  Page back = b.Post(provider.location.substr(0, provider.location.find('?')), form);
  Page landed = b.Get(back.location);
  EXPECT_EQ(landed.location, base_ + "/autopilot/" + id + "?from=qr");
  // A return address on another site is not followed.
  Page evil = b.Get(base_ + "/signin?return=%2F%2Fevil.example%2F");
  Page evil_picker = b.Get(evil.location);
  auto evil_form = HiddenFields(evil_picker.body);
  evil_form["user"] = oid_["approver@contoso.example"];
  Page evil_back = b.Post(evil.location.substr(0, evil.location.find('?')), evil_form);
  EXPECT_EQ(b.Get(evil_back.location).location, base_ + "/");
}

TEST_F(WebTest, SignOutEndsTheSession) {
  Start();
  Browser b;
  SignIn(b, "approver@contoso.example");
  Page list = b.Get(base_ + "/autopilot/approve-requests");
  ASSERT_EQ(list.status, 200);
  Page out = b.Post(base_ + "/signout", {{"csrf", Csrf(list.body)}});
  EXPECT_EQ(out.status, 303);
  EXPECT_THAT(out.location, HasSubstr("/oauth2/v2.0/logout"));
  EXPECT_EQ(b.Get(base_ + "/autopilot/approve-requests").status, 302);
}

// Over plain http, as here, the names carry no __Host- prefix and no Secure (both come with
// https: SessionManager::Attributes); the rest holds either way.
TEST_F(WebTest, SessionCookiesAreHttpOnlySameSiteAndEndWithTheBrowser) {
  Start();
  Browser b;
  Page landed = SignIn(b, "approver@contoso.example");
  int sessions = 0;
  for (const std::string& cookie : landed.set_cookies) {
    if (cookie.rfind("apm_session=", 0) != 0) continue;
    ++sessions;
    EXPECT_THAT(cookie, HasSubstr("; Path=/")) << cookie;
    EXPECT_THAT(cookie, HasSubstr("; HttpOnly")) << cookie;
    EXPECT_THAT(cookie, HasSubstr("; SameSite=Lax")) << cookie;
    EXPECT_THAT(cookie, Not(HasSubstr("Max-Age"))) << "a session cookie: " << cookie;
    EXPECT_THAT(cookie, Not(HasSubstr("Domain"))) << cookie;
  }
  EXPECT_EQ(sessions, 1) << ::testing::PrintToString(landed.set_cookies);
}

// ASVS 3.4.1/3.4.4: over https (here as a trusted proxy reports it) the cookies carry Secure and
// the __Host- prefix, which also forbids a Domain and needs Path=/ (SessionManager::Attributes
// serves the sign-in and the session cookie alike).
TEST_F(WebTest, OverHttpsCookiesAreSecureAndHostPrefixed) {
  Start("TrustedProxies = [\"127.0.0.1\"]\n");
  HttpResult https = Http("GET", base_ + "/signin?return=/autopilot/approve-requests", "",
                          {"X-Forwarded-Proto: https"});
  EXPECT_EQ(https.status, 302);
  std::string cookie = https.Header("set-cookie");
  EXPECT_EQ(cookie.rfind("__Host-apm_signin=", 0), 0u) << cookie;
  EXPECT_THAT(cookie, HasSubstr("; Path=/; HttpOnly; SameSite=Lax; Secure")) << cookie;
  EXPECT_THAT(cookie, Not(HasSubstr("Domain"))) << cookie;
  std::string plain =
      Http("GET", base_ + "/signin?return=/autopilot/approve-requests").Header("set-cookie");
  EXPECT_EQ(plain.rfind("apm_signin=", 0), 0u) << plain;
  EXPECT_THAT(plain, Not(HasSubstr("Secure"))) << plain;
}

// "apm_session=<id>" as the page set it, or "".
std::string SessionCookieOf(const Page& page) {
  for (const std::string& cookie : page.set_cookies) {
    if (cookie.rfind("apm_session=", 0) == 0) return cookie.substr(0, cookie.find(';'));
  }
  return "";
}

TEST_F(WebTest, EachSignInGetsANewSessionAndTheOldOneEnds) {
  Start();
  Browser b;
  std::string first = SessionCookieOf(SignIn(b, "approver@contoso.example"));
  ASSERT_FALSE(first.empty());
  EXPECT_EQ(Http("GET", base_ + "/autopilot/approve-requests", "", {"Cookie: " + first}).status,
            200);
  std::string second = SessionCookieOf(SignIn(b, "approver@contoso.example"));
  ASSERT_FALSE(second.empty());
  EXPECT_NE(second, first);
  EXPECT_EQ(Http("GET", base_ + "/autopilot/approve-requests", "", {"Cookie: " + first}).status,
            302)
      << "the session before the new sign-in still works";
  EXPECT_EQ(Http("GET", base_ + "/autopilot/approve-requests", "", {"Cookie: " + second}).status,
            200);
}

TEST_F(WebTest, PagesAndTheHomePageCarryTheirSecurityHeaders) {
  Start();
  Browser b;
  std::string session = SessionCookieOf(SignIn(b, "approver@contoso.example"));
  HttpResult page = Http("GET", base_ + "/autopilot/approve-requests", "", {"Cookie: " + session});
  ASSERT_EQ(page.status, 200) << page.body;
  HttpResult home = Http("GET", base_ + "/");
  ASSERT_EQ(home.status, 200) << home.body;
  for (const HttpResult* r : {&page, &home}) {
    EXPECT_THAT(r->Header("content-security-policy"), HasSubstr("default-src 'none'"));
    EXPECT_THAT(r->Header("content-security-policy"), HasSubstr("frame-ancestors 'none'"));
    EXPECT_THAT(r->Header("content-security-policy"), Not(HasSubstr("unsafe-eval")));
    EXPECT_EQ(r->Header("x-frame-options"), "DENY");
    EXPECT_EQ(r->Header("referrer-policy"), "same-origin");
    EXPECT_EQ(r->Header("x-content-type-options"), "nosniff");
    EXPECT_EQ(r->Header("cache-control"), "no-store");
  }
  EXPECT_THAT(page.Header("content-security-policy"), HasSubstr("script-src 'self'"));
}

// Security issue 10, finding 7: one person repeating sign-in starts behind an office NAT
// must not stop the others' sign-ins from completing: the callback has its own bucket.
TEST_F(WebTest, SignInStartsDoNotLockOutCallbacks) {
  Start();
  Browser first;
  Page provider = first.Get(base_ + "/signin");  // a sign-in begun before the flood
  ASSERT_EQ(provider.status, 302);
  Browser flooder;
  long last = 0;
  for (int i = 0; i < 40 && last != 429; ++i) last = flooder.Get(base_ + "/signin").status;
  EXPECT_EQ(last, 429) << "starts are limited per address";
  // The first browser finishes signing in from the same address.
  Page picker = first.Get(provider.location);
  std::map<std::string, std::string> form = HiddenFields(picker.body);
  form["user"] = oid_["approver@contoso.example"];
  Page back = first.Post(provider.location.substr(0, provider.location.find('?')), form);
  ASSERT_EQ(back.status, 302) << back.body;
  Page callback = first.Get(back.location);
  EXPECT_NE(callback.status, 429);
  EXPECT_EQ(first.Follow(callback).status, 200);
}

TEST(WebConfigTest, PartialSignInConfigurationIsAStartUpError) {
  ServerProcess s("ApproverSecurityGroup = \"" + std::string(kSimProfileGroup) + "\"\n");
  EXPECT_FALSE(s.Start());
  EXPECT_THAT(s.log(), HasSubstr("SignInAuthority"));
  ServerProcess t("ApprovalMode = true\nViewerSecurityGroup = \"" + std::string(kSimProfileGroup) +
                  "\"\nSignInAuthority = \"http://127.0.0.1:1/x/v2.0\"\n");
  EXPECT_FALSE(t.Start());
  EXPECT_THAT(t.log(), HasSubstr("ApproverSecurityGroup"));
}

TEST(WebConfigTest, WithoutSignInThePagesSaySoAndTheApiServes) {
  ServerProcess s;
  ASSERT_TRUE(s.Start());
  EXPECT_THAT(s.log(), HasSubstr("approval pages are off"));
  HttpResult page = Http("GET", s.url() + "/autopilot/approve-requests");
  EXPECT_EQ(page.status, 404);
  EXPECT_THAT(page.body, HasSubstr("no sign-in configured"));
  EXPECT_EQ(Http("POST", s.url() + "/api/v1/requests", SubmitBody("NOSIGNIN-1"),
                 {"Content-Type: application/json"})
                .status,
            201);
}

}  // namespace
}  // namespace apm::itest
