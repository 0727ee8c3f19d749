// The web handler's sign-in: the OpenID Connect code flow with PKCE, the callback, group
// overage through Graph, and sign-out.
#include <boost/asio/post.hpp>
#include <nlohmann/json.hpp>

#include "core/text.h"
#include "server/http/responses.h"
#include "server/logging.h"
#include "server/web/page_text.h"
#include "server/web/visit.h"

namespace apm::web {

using json = nlohmann::json;

void WebHandler::SignIn(Visit& v) {
  std::string return_to = LocalPath(Param(v.req, "return"));
  Result<auth::LoginStart> start =
      oidc_->StartLogin(PublicBaseUrl(config_, v.req) + "/signin-oidc");
  if (!start.ok()) {
    LogWarn("sign-in unavailable", {{"error", start.status().message()}});
    return Message(v, http::status::service_unavailable, "Sign-in is unavailable",
                   "The sign-in service cannot be reached right now. Try again in a minute.");
  }
  PendingLogin login{start->state, start->nonce, start->code_verifier, return_to, clock_.NowMs()};
  if (Status s = session_store_.SavePendingLogin(login); !s.ok()) {
    return Message(v, http::status::service_unavailable, "Sign-in is unavailable",
                   "The server cannot store the sign-in right now. Try again in a minute.");
  }
  Redirect(v, start->url, http::status::found, {sessions_.LoginCookie(v.req, start->state)});
}

void WebHandler::SignInCallback(Visit& v) {
  auto refuse = [&](http::status status, const std::string& why, const std::string& shown) {
    LogWarn("sign-in refused", {{"reason", why}, {"address", v.req.client_address}});
    Audit(v, "sign_in_failed", "", why);
    Message(v, status, "Sign-in failed", shown, "/signin", "Try again");
  };
  std::string state = Param(v.req, "state");
  if (std::string error = Param(v.req, "error"); !error.empty()) {
    std::string description = Param(v.req, "error_description");
    if (!state.empty()) (void)session_store_.TakePendingLogin(state);
    return refuse(http::status::forbidden, "provider error " + error + ": " + description,
                  "The sign-in service said: " + error +
                      (description.empty() ? "" : " (" + description + ")") + ".");
  }
  std::string code = Param(v.req, "code");
  if (state.empty() || code.empty()) {
    return refuse(http::status::bad_request, "callback without code or state",
                  "The answer of the sign-in service is incomplete.");
  }
  // The state must be the one this browser started (its cookie), and used only once.
  if (!SameToken(CookieValue(v.req, sessions_.LoginCookieName(v.req)), state)) {
    return refuse(http::status::forbidden, "state does not match this browser's sign-in",
                  "This sign-in was not started in this browser. Start it again.");
  }
  Result<PendingLogin> login = session_store_.TakePendingLogin(state);
  if (!login.ok()) {
    return refuse(http::status::forbidden, "unknown or already used state",
                  "This sign-in answer was already used or has expired. Start it again.");
  }
  if (clock_.NowMs() - login->created_at > kSignInMaxAgeMs) {
    return refuse(http::status::forbidden, "sign-in started too long ago",
                  "This sign-in took too long. Start it again.");
  }
  Result<auth::SignedIn> signed_in = oidc_->FinishLogin(
      code, login->code_verifier, login->nonce, PublicBaseUrl(config_, v.req) + "/signin-oidc");
  if (!signed_in.ok()) {
    bool refused = signed_in.status().code() == StatusCode::kPermissionDenied;
    return refuse(refused ? http::status::forbidden : http::status::service_unavailable,
                  signed_in.status().message(),
                  refused
                      ? "Your sign-in could not be accepted (" + signed_in.status().message() + ")."
                      : "The sign-in service cannot be reached right now. Try again.");
  }
  const auth::IdentityClaims& who = signed_in->identity;
  Result<std::vector<std::string>> groups = GroupsOf(who);
  if (!groups.ok()) {
    return refuse(http::status::forbidden,
                  "groups of " + who.upn + ": " + groups.status().message(),
                  "Your group memberships could not be read, so your access cannot be decided. "
                  "Ask your administrator.");
  }
  if (v.session) sessions_.Destroy(v.session->id);  // one session per browser
  Result<Session> session = sessions_.Create(who, *groups);
  if (!session.ok()) {
    return Message(v, http::status::service_unavailable, "Sign-in is unavailable",
                   "The server cannot store your session right now. Try again in a minute.");
  }
  v.session = *session;
  auth::Roles roles = auth::RolesFor(*groups, config_);
  Audit(v, "sign_in", "",
        std::string("roles:") + (roles.general ? " general" : "") +
            (roles.approver ? " approver" : "") + (roles.viewer ? " viewer" : "") +
            (roles.any() ? "" : " none") + (who.groups_overage ? " (groups via Graph)" : ""));
  LogInfo("signed in", {{"user", who.upn}, {"oid", who.oid}, {"address", v.req.client_address}});
  Redirect(v, login->return_to, http::status::found,
           {sessions_.SessionCookie(v.req, session->id), sessions_.ExpiredLoginCookie(v.req)});
}

Result<std::vector<std::string>> WebHandler::GroupsOf(const auth::IdentityClaims& identity) {
  if (!identity.groups_overage) return identity.groups;
  // The token names too many groups to carry them; Graph has the full list.
  if (!graph_) {
    return Status::FailedPrecondition(
        "the token carries a group overage and no Graph access is configured (TenantId)");
  }
  return graph_->GetMemberObjects(identity.oid);
}

void WebHandler::SignOut(Visit& v) {
  if (!CheckPost(v)) return;
  sessions_.Destroy(v.session->id);
  Audit(v, "sign_out", "", "");
  Result<std::string> url =
      oidc_->LogoutUrl("", PublicBaseUrl(config_, v.req) + "/signout-callback-oidc");
  std::string target = url.ok() && !url->empty() ? *url : "/signout-callback-oidc";
  Redirect(v, target, http::status::see_other, {sessions_.ExpiredSessionCookie(v.req)});
}

}  // namespace apm::web
