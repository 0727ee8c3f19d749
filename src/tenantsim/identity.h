// The Entra ID side of apm-tenant-sim: one tenant, its registered apps, and the v2 token
// endpoint for client credentials. Access tokens are opaque random strings (Graph tokens are
// opaque to clients), remembered with their app and expiry so Graph endpoints can check them.
// Facts: ../shared/reference/graph-api.md §1a.
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

  // Issues a token to a registered app without a token request (in-process tests); nullopt
  // for an unknown app.
  std::optional<IssuedToken> IssueToken(const std::string& client_id);

  // The app an unexpired access token was issued to; nullopt for unknown or expired tokens.
  std::optional<SimApp> Authenticate(const std::string& access_token);

  static constexpr int64_t kTokenLifetimeSeconds = 3599;

 private:
  struct Grant {
    std::string client_id;
    int64_t expires_at_ms;
  };

  const Clock& clock_;
  std::string tenant_id_;
  std::string tenant_domain_;
  std::mutex mu_;
  std::map<std::string, SimApp> apps_;
  std::map<std::string, Grant> tokens_;
  std::map<std::string, int64_t> used_jtis_;  // client assertion ids -> their expiry, ms
};

}  // namespace apm::sim
