#include "server/web/session_manager.h"

#include "server/http/form.h"
#include "server/random_guid.h"

namespace apm::web {

std::string CookieValue(const InboundRequest& req, std::string_view name) {
  for (auto it = req.message.find(http::field::cookie);
       it != req.message.end() && it->name() == http::field::cookie; ++it) {
    if (std::optional<std::string> value = CookieFromHeader(it->value(), name)) return *value;
  }
  return "";
}

std::string SessionManager::CookieName(const InboundRequest& req) const {
  return req.secure ? "__Host-apm_session" : "apm_session";
}

std::string SessionManager::LoginCookieName(const InboundRequest& req) const {
  return req.secure ? "__Host-apm_signin" : "apm_signin";
}

std::string SessionManager::Attributes(const InboundRequest& req) const {
  return std::string("; Path=/; HttpOnly; SameSite=Lax") + (req.secure ? "; Secure" : "");
}

std::string SessionManager::SessionCookie(const InboundRequest& req, const std::string& id) const {
  return CookieName(req) + "=" + id + Attributes(req);  // a session cookie: gone with the browser
}

std::string SessionManager::ExpiredSessionCookie(const InboundRequest& req) const {
  return CookieName(req) + "=" + Attributes(req) + "; Max-Age=0";
}

std::string SessionManager::LoginCookie(const InboundRequest& req, const std::string& state) const {
  return LoginCookieName(req) + "=" + state + Attributes(req) + "; Max-Age=600";
}

std::string SessionManager::ExpiredLoginCookie(const InboundRequest& req) const {
  return LoginCookieName(req) + "=" + Attributes(req) + "; Max-Age=0";
}

std::optional<Session> SessionManager::Find(const InboundRequest& req) {
  std::string id = CookieValue(req, CookieName(req));
  if (id.empty()) return std::nullopt;
  Result<Session> session = store_.GetSession(id);
  if (!session.ok()) return std::nullopt;
  int64_t now = clock_.NowMs();
  bool idle = now - session->last_seen_at > config_.SessionIdleMinutes * 60'000;
  bool too_old = now - session->created_at > config_.SessionMaxHours * 3'600'000;
  if (idle || too_old) {
    (void)store_.DeleteSession(id);
    return std::nullopt;
  }
  // Written at most once a minute: the idle timeout needs no finer grain.
  if (now - session->last_seen_at > 60'000) {
    (void)store_.TouchSession(id, now);
    session->last_seen_at = now;
  }
  return *session;
}

Result<Session> SessionManager::Create(const auth::IdentityClaims& identity,
                                       const std::vector<std::string>& groups) {
  int64_t now = clock_.NowMs();
  Session session{RandomToken(32), identity.oid,    identity.tid, identity.upn, identity.name,
                  groups,          RandomToken(32), now,          now};
  if (Status s = store_.CreateSession(session); !s.ok()) return s;
  return session;
}

void SessionManager::Destroy(const std::string& id) {
  (void)store_.DeleteSession(id);
}

}  // namespace apm::web
