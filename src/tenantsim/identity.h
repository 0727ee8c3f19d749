// The Entra ID side of apm-tenant-sim: one tenant, its registered apps, and the v2 token
// endpoint for client credentials. Access tokens are opaque random strings (Graph tokens are
// opaque to clients), remembered with their app, expiry and (for delegated tokens from the
// sign-in flow, see oidc_provider.h) their user, so Graph endpoints can check them.
// Facts: docs/graph-facts.md#tokens and #sign-in.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/status.h"
#include "server/clock.h"

namespace apm::sim {

// A client secret added through Graph (addPassword).
struct SimPassword {
  std::string key_id, display_name, secret;
  int64_t start_ms = 0, end_ms = 0;
};

// An appRoleAssignment: `principal_id` (a service principal, group or user) holds `app_role_id`
// of the resource service principal `resource_id`.
struct SimAssignment {
  std::string id, principal_id, principal_type, principal_name, resource_id, resource_name,
      app_role_id;
  int64_t created_ms = 0;
};

// Microsoft Graph's service principal in every tenant: its appId, the object id the simulator
// gives it, and its application permissions (app roles; ids from Graph's permissions reference).
inline constexpr const char* kGraphAppId = "00000003-0000-0000-c000-000000000000";
inline constexpr const char* kGraphServicePrincipalId = "0b7f3a52-9c1e-4d6a-8f2b-5e4d3c2b1a09";
struct GraphAppRole {
  const char* value;
  const char* id;
};
const std::vector<GraphAppRole>& GraphAppRoles();
// "Microsoft Graph Command Line Tools": the public client admins sign in to (device code).
inline constexpr const char* kGraphCliAppId = "14d82eec-204b-4c2f-b7e8-296a70dab67e";
// The app role a group or user is assigned to an app with when the app declares none.
inline constexpr const char* kDefaultAccessRoleId = "00000000-0000-0000-0000-000000000000";

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
  // The registration as Graph's /applications shows it; `object_id` "" : made up when shown.
  std::string object_id = "";
  std::string display_name = "apm-server";
  std::string logout_url = "";
  // groupMembershipClaims; "ApplicationGroup": only groups assigned to the app (below).
  std::string group_membership_claims = "SecurityGroup";
  nlohmann::json required_resource_access = nlohmann::json::array();
  std::vector<SimPassword> passwords = {};  // secrets added through Graph
  // Certificates uploaded through Graph (keyCredentials, with their `key`); the newest is
  // `certificate_pem`, which client assertions are checked against.
  nlohmann::json key_credentials = nlohmann::json::array();
  int64_t created_ms = 0;
  // Its enterprise app (service principal): "" until created; groups and users assigned to it.
  std::string service_principal_id = "";
  int64_t service_principal_created_ms = 0;
  std::vector<SimAssignment> assigned = {};
  // Graph application permissions granted (their values are also in `roles`).
  std::vector<SimAssignment> granted = {};
  bool public_client = false;  // signs users in without a credential (device code flow)
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

  // --- App registrations and service principals, as Graph writes them (identity_apps.cc) ---
  // A new registration with a new appId and object id, filled by `fill` before anyone sees it.
  SimApp CreateApplication(const std::function<void(SimApp&)>& fill);
  // The registration with this object id; nullopt when none.
  std::optional<SimApp> FindApplication(const std::string& object_id);
  // Edits the registration (found by object id); false when none.
  bool UpdateApplication(const std::string& object_id, const std::function<void(SimApp&)>& edit);
  // A new secret ending at `end_ms`; nullopt for an unknown object id.
  std::optional<SimPassword> AddPassword(const std::string& object_id,
                                         const std::string& display_name, int64_t end_ms);
  enum class Created { kCreated, kExists, kNoSuchApp };
  // Creates the app's service principal (its id in `id`), unless it has one.
  Created CreateServicePrincipal(const std::string& app_id, std::string* id);
  // How long a new service principal is not yet found by appRoleAssignedTo (Graph's
  // replication after a create; 0 by default).
  void set_replication_delay_ms(int64_t ms);
  // The app owning the service principal `sp_id`; nullopt for Graph's and unknown ids.
  std::optional<SimApp> AppOfServicePrincipal(const std::string& sp_id);
  // Grants Graph's app role `app_role_id` to the app whose service principal is `principal_id`;
  // the assignment (the existing one when granted already), or an error message.
  std::variant<SimAssignment, std::string> GrantGraphRole(const std::string& principal_id,
                                                          const std::string& app_role_id);
  // Assigns a group or user to the app whose service principal is `sp_id` (default access).
  std::variant<SimAssignment, std::string> AssignToApp(const std::string& sp_id,
                                                       const std::string& principal_id,
                                                       const std::string& principal_type,
                                                       const std::string& principal_name);
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

  std::string NewGuid();
  SimApp* FindApplicationLocked(const std::string& object_id);
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
  int64_t replication_delay_ms_ = 0;
};

}  // namespace apm::sim
