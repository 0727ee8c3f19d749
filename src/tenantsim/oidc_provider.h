// The Entra ID OpenID Connect provider of apm-tenant-sim, for apm-server's sign-in (authorization
// code flow with PKCE): discovery, JWKS, the authorize endpoint with a test-user picker page,
// code redemption at the token endpoint (id_token RS256 with groups or the overage claims, and a
// delegated access token usable on /me/getMemberObjects), and logout. Independent of HTTP
// plumbing: SimHandler turns OidcAnswer into responses. Facts: docs/graph-facts.md#sign-in.
//
// Test users live in the GraphModel (users, groups, memberships) so Graph's getMemberObjects
// sees them; the provider remembers which users the picker offers. Users' and groups' object ids
// are stable: see StableObjectId.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/status.h"
#include "server/clock.h"
#include "tenantsim/graph_model.h"
#include "tenantsim/identity.h"
#include "tenantsim/oidc_pages.h"
#include "tenantsim/signing_keys.h"

namespace apm::sim {

// A test user as given on the command line: "upn|Display Name|group1,group2" (groups by
// displayName, possibly none).
struct TestUserSpec {
  std::string upn;
  std::string display_name;
  std::vector<std::string> groups;
  // Entra directory roles by name ("Global Administrator"); "upn|Name|groups|roles".
  std::vector<std::string> directory_roles = {};
};

Result<TestUserSpec> ParseTestUserSpec(std::string_view text);

// approver@, user@, viewer@, nogroups@, overage@ (210 groups) and admin@ (Global Administrator,
// no groups) of `domain`.
std::vector<TestUserSpec> DefaultTestUsers(const std::string& domain);

inline constexpr const char* kApproversGroup = "Autopilot Approvers";
inline constexpr const char* kUsersGroup = "Autopilot Users";
inline constexpr const char* kViewersGroup = "Autopilot Viewers";

// The object id of a test user or group: a name-based UUID (RFC 9562 version 5, SHA-1) in the
// URL namespace 6ba7b811-9dad-11d1-80b4-00c04fd430c8 of the name "apm-tenant-sim:<kind>:<name>",
// kind "user" with the lower-case UPN or "group" with the displayName. In Python:
// uuid.uuid5(uuid.NAMESPACE_URL, "apm-tenant-sim:group:Autopilot Approvers").
std::string StableObjectId(std::string_view kind, std::string_view name);

struct TestUser {
  std::string oid;
  std::string upn;
  std::string display_name;
  std::vector<std::pair<std::string, std::string>> groups;  // direct groups: (displayName, id)
};

// One answer of an OIDC route: a page, JSON, or a redirect (Location in headers).
struct OidcAnswer {
  int status = 200;
  std::string content_type;  // "" : no body
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

class OidcProvider {
 public:
  OidcProvider(Identity& identity, GraphModel& model, const Clock& clock);

  // Creates the user (and missing groups, found by displayName) in the model with stable ids
  // and offers it on the picker. Adding a UPN again adds memberships only.
  TestUser AddTestUser(const TestUserSpec& spec);
  std::vector<TestUser> test_users() const;
  // nullopt when no test user has this UPN (case-insensitive) or object id.
  std::optional<TestUser> FindTestUser(const std::string& upn_or_oid) const;

  // More groups than this: the id_token carries _claim_names/_claim_sources instead of groups.
  void set_group_overage_limit(size_t limit);
  // A fixed "scheme://host[:port]" for the issuer and endpoint URLs instead of the one each
  // request came under (when browser and apm-server reach the simulator by different names).
  void set_public_base_url(std::string url);

  // A broken id_token for every later sign-in, to test relying parties: "alg-none",
  // "hs256" (HMAC keyed with the public modulus), "tampered" (payload changed after signing),
  // "expired", "wrong-audience", "wrong-nonce"; "" issues good tokens again.
  Status set_id_token_fault(const std::string& fault);

  SigningKeys& signing_keys() { return keys_; }
  // A new signing key for new tokens, the previous one still published; returns its kid.
  std::string RotateSigningKey() { return keys_.Rotate(); }

  // The routes. `tenant` is the path's first segment; `base_url` the scheme and host the
  // request came under; `params` the decoded query or form fields.
  OidcAnswer Discovery(const std::string& tenant, const std::string& base_url);
  OidcAnswer Keys(const std::string& tenant);
  // GET shows the picker (or signs in at once, see SimApp::auto_login); POST with `user`
  // (the picker's form) issues the code.
  OidcAnswer Authorize(bool is_post, const std::string& tenant, const std::string& path,
                       const std::map<std::string, std::string>& params);
  OidcAnswer Logout(const std::string& tenant, const std::map<std::string, std::string>& params);
  // grant_type=authorization_code on the token endpoint: the answer's JSON or Entra's error.
  std::variant<nlohmann::json, TokenError> RedeemCode(
      const std::map<std::string, std::string>& form, const std::string& called_url,
      const std::string& base_url);

  // The device code flow (oidc_device_code.cc), for public clients such as Microsoft Graph
  // Command Line Tools: POST /{tenant}/oauth2/v2.0/devicecode starts it; the user enters the
  // code on /devicelogin (GET shows the form, POST takes `code` and `user`); the token endpoint's
  // device_code grant answers authorization_pending until then.
  std::variant<nlohmann::json, TokenError> StartDeviceCode(
      const std::map<std::string, std::string>& form, const std::string& base_url);
  OidcAnswer DeviceLogin(bool is_post, const std::map<std::string, std::string>& params);
  std::variant<nlohmann::json, TokenError> RedeemDeviceCode(
      const std::map<std::string, std::string>& form, const std::string& base_url);
  // GET /_sim/device-codes: the user codes waiting for a sign-in (tests enter them).
  nlohmann::json PendingDeviceCodes() const;
  // Whether an administrator consented for the whole organisation to the delegated scopes of
  // public clients (Microsoft Graph Command Line Tools) earlier. Without it a user who holds no
  // administrator role cannot consent to scopes that need an administrator's consent and is
  // shown "Need admin approval"; the client's poll then gets authorization_declined.
  void set_organisation_consented(bool consented);
  // Seconds a client waits between polls (Entra says 5; tests poll faster).
  void set_device_code_interval(int seconds);

  // GET /_sim/users: test users with object and group ids, and all groups.
  nlohmann::json UsersJson() const;

  static constexpr int64_t kCodeLifetimeMs = 60'000;
  static constexpr int64_t kIdTokenLifetimeSeconds = 3600;
  static constexpr int64_t kDeviceCodeLifetimeSeconds = 900;

 private:
  struct AuthRequest {
    SimApp app;
    std::string redirect_uri, response_mode, scope, state, nonce, code_challenge,
        code_challenge_method, prompt, login_hint;
  };
  static std::optional<std::pair<std::string, std::string>> ReadFlowParams(
      const std::map<std::string, std::string>& params, const std::string& mode, AuthRequest& r);
  struct Code {
    std::string client_id, redirect_uri, user_oid, upn, display_name, nonce, scope, code_challenge,
        code_challenge_method, sid;
    int64_t expires_at_ms = 0;
    bool redeemed = false;
  };

  std::variant<AuthRequest, OidcAnswer> ParseAuthorize(
      const std::string& tenant, const std::map<std::string, std::string>& params);
  OidcAnswer IssueCode(const AuthRequest& r, const TestUser& user);
  OidcAnswer Picker(const AuthRequest& r, const std::string& path, const std::string& notice,
                    int status);
  // The answer to the client's redirect_uri: 302 with a query, or a form_post page.
  static OidcAnswer Deliver(const std::string& redirect_uri, const std::string& response_mode,
                            const FormFields& fields);
  OidcAnswer ErrorPage(int status, const std::string& aadsts_message) const;
  std::string Issuer(const std::string& base_url) const;
  std::string Base(const std::string& base_url) const;
  nlohmann::json IdTokenClaims(const Code& code, const std::string& issuer) const;
  std::variant<Code, TokenError> SpendCode(const std::string& code_text,
                                           const std::string& client_id,
                                           const std::string& redirect_uri,
                                           const std::string& verifier);
  // `app`'s groups claim: the user's groups (those assigned to the app for "ApplicationGroup").
  void AddGroupClaims(const SimApp& app, const std::string& user_oid, nlohmann::json& claims);

  struct DeviceGrant {
    std::string user_code, client_id, scope, user_oid, upn, display_name;
    int64_t expires_at_ms = 0;
    bool declined = false;
  };

  Identity& identity_;
  GraphModel& model_;
  const Clock& clock_;
  SigningKeys keys_;
  mutable std::mutex mu_;        // guards the members below
  std::vector<TestUser> users_;  // in the order added
  std::map<std::string, Code> codes_;
  size_t group_overage_limit_ = 200;
  std::string id_token_fault_;
  std::string public_base_url_;
  std::map<std::string, DeviceGrant> device_grants_;  // by device_code
  int device_code_interval_ = 5;
  bool organisation_consented_ = false;
};

}  // namespace apm::sim
