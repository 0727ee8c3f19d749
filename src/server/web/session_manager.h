// Server-side sessions behind a cookie: HttpOnly, SameSite=Lax, Secure and the __Host- prefix
// over https; idle and absolute timeouts; a CSRF token per session.
#pragma once

#include <optional>
#include <string>

#include "server/auth/id_token.h"
#include "server/clock.h"
#include "server/config.h"
#include "server/http/http_types.h"
#include "server/store/session_store.h"

namespace apm::web {

// The value of cookie `name` in the request, or "".
std::string CookieValue(const InboundRequest& req, std::string_view name);

class SessionManager {
 public:
  SessionManager(SessionStore& store, const Clock& clock, const Config& config)
      : store_(store), clock_(clock), config_(config) {}

  // The request's session when it exists and has not timed out (an expired one is deleted).
  std::optional<Session> Find(const InboundRequest& req);
  Result<Session> Create(const auth::IdentityClaims& identity,
                         const std::vector<std::string>& groups);
  void Destroy(const std::string& id);

  std::string CookieName(const InboundRequest& req) const;
  std::string SessionCookie(const InboundRequest& req, const std::string& id) const;
  std::string ExpiredSessionCookie(const InboundRequest& req) const;
  // The short-lived cookie that binds a sign-in's state to this browser.
  std::string LoginCookie(const InboundRequest& req, const std::string& state) const;
  std::string ExpiredLoginCookie(const InboundRequest& req) const;
  std::string LoginCookieName(const InboundRequest& req) const;

 private:
  std::string Attributes(const InboundRequest& req) const;

  SessionStore& store_;
  const Clock& clock_;
  const Config& config_;
};

}  // namespace apm::web
