// The Entra ID side of apm-tenant-sim: one tenant, its registered apps, and the v2 token
// endpoint for client credentials. Access tokens are opaque random strings (Graph tokens are
// opaque to clients), remembered with their app, expiry and (for delegated tokens from the
// sign-in flow, see oidc_provider.h) their user, so Graph endpoints can check them.
// Facts: docs/graph-facts.md#tokens and #sign-in.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/status.h"
#include "server/clock.h"

namespace apm::sim {

struct SimApp {
  std::string client_id;
  std::string client_secret;       // "" : no secret credential
  std::vector<std::string> roles;  // application permissions granted to the app
  std::string certificate_pem;     // "" : no certificate credential (client assertions)
  // Sign-in (OIDC). Every field has a default so four-value initialisers keep compiling.
  std::vector<std::string> redirect_uris = {};  // exact match, as Entra's web platform
  // Extra exact post_logout_redirect_uri values besides redirect_uris.
  std::vector<std::string> post_logout_redirect_uris = {};
  // A login_hint naming a test user signs in without the picker page (automated tests).
  bool auto_login = false;
  // The id_token carries `groups` (groupMembershipClaims "SecurityGroup").
  bool group_claims = true;
  // The secret is right but past its end date (Entra answers AADSTS7000222).
  bool secret_expired = false;
  // The secret's endDateTime as /applications shows it (ms; 0: not shown).
  int64_t secret_end_ms = 0;
  // App-only tokens are random text instead of a JWT with the roles claim.
  bool opaque_tokens = false;
};

// Who an access token speaks for. `app.roles` holds the token's permissions: the app's
// application roles for app-only tokens, the granted delegated scopes for user tokens.
struct Caller {
  SimApp app;
  std::string user_id;  // "" for app-only tokens
};

// An OAuth error answer: HTTP status, `error`, AADSTS code and description.
struct TokenError {
  int http_status;
  std::string error;
  int64_t aadsts;
  std::string description;
};

struct IssuedToken {
  std::string access_token;
  int64_t expires_in;
};

class Identity {
 public:
  Identity(const Clock& clock, std::string tenant_id, std::string tenant_domain);

  void AddApp(SimApp app);

  // Whether `tenant` (GUID or domain, as in the token URL) names this tenant.
  bool IsTenant(const std::string& tenant) const;

  // The client-credentials grant, given the decoded form fields of the token request, with a
  // client secret or a certificate's client assertion. `called_url` is the URL the request
  // came to; an assertion may name it as audience besides the login.microsoftonline.com form.
  // Either a token or the error Entra would answer.
  std::variant<IssuedToken, TokenError> ClientCredentials(
      const std::map<std::string, std::string>& form, const std::string& called_url = "");

  // Checks the client_id and the client's credential (client_secret or client assertion) in
  // a token request's form; nullopt when the client is authenticated.
  std::optional<TokenError> AuthenticateClient(const std::map<std::string, std::string>& form,
                                               const std::string& called_url = "");

  // Issues a token to a registered app without a token request (in-process tests); nullopt
  // for an unknown app.
  std::optional<IssuedToken> IssueToken(const std::string& client_id);
  // A delegated token: `user_id` signed in to `client_id`, with delegated `scopes`.
  std::optional<IssuedToken> IssueDelegatedToken(const std::string& client_id,
                                                 const std::string& user_id,
                                                 std::vector<std::string> scopes);

  // The app an unexpired access token was issued to (roles as in Caller); nullopt for
  // unknown or expired tokens.
  std::optional<SimApp> Authenticate(const std::string& access_token);
  std::optional<Caller> AuthenticateCaller(const std::string& access_token);
  // The app an unexpired Azure Monitor token (scope https://monitor.azure.com//.default) was
  // issued to; Graph tokens are not accepted there, nor these by Graph.
  std::optional<SimApp> AuthenticateMonitor(const std::string& access_token);

  std::optional<SimApp> FindApp(const std::string& client_id);
  std::vector<SimApp> Apps();
  const std::string& tenant_id() const { return tenant_id_; }
  const std::string& tenant_domain() const { return tenant_domain_; }

  static constexpr int64_t kTokenLifetimeSeconds = 3599;

 private:
  struct Grant {
    std::string client_id;
    int64_t expires_at_ms;
    std::string user_id;              // "" : app-only
    std::vector<std::string> scopes;  // delegated scopes of a user token
    bool monitor = false;             // audience Azure Monitor (Logs Ingestion), not Graph
  };

  std::optional<TokenError> AuthenticateClientLocked(const SimApp& app,
                                                     const std::map<std::string, std::string>& form,
                                                     const std::string& called_url);

  const Clock& clock_;
  std::string tenant_id_;
  std::string tenant_domain_;
  std::mutex mu_;  // guards apps_, tokens_ and used_jtis_
  std::map<std::string, SimApp> apps_;
  std::map<std::string, Grant> tokens_;
  std::map<std::string, int64_t> used_jtis_;  // client assertion ids -> their expiry, ms
};

}  // namespace apm::sim
