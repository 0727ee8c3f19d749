// The relying party of OpenID Connect sign-in: discovery, the authorization request (code flow
// with PKCE S256, state and nonce), code redemption, id_token verification with a cached JWKS
// that is refetched once when a token names an unknown key, and RP-initiated logout.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "server/auth/client_assertion_signer.h"
#include "server/auth/id_token.h"
#include "server/clock.h"
#include "server/http/outbound_http.h"

namespace apm::auth {

struct OidcSettings {
  std::string
      authority;  // the issuer; discovery is at authority + /.well-known/openid-configuration
  std::string client_id;
  std::string client_secret;
  std::string tenant_id;  // the tid every user must have; "" = any
  std::string scopes = "openid profile";
  int64_t clock_skew_s = 120;
  // Set: codes are redeemed with a client assertion of the app's certificate, not the secret.
  std::shared_ptr<const ClientAssertionSigner> assertion_signer = nullptr;
};

struct ProviderMetadata {
  std::string issuer;
  std::string authorization_endpoint;
  std::string token_endpoint;
  std::string jwks_uri;
  std::string end_session_endpoint;  // "" when the provider has none
};

// What a sign-in needs to remember until the provider sends the browser back.
struct LoginStart {
  std::string url;  // where to send the browser
  std::string state;
  std::string nonce;
  std::string code_verifier;
};

struct SignedIn {
  IdentityClaims identity;
  std::string id_token;  // the hint for logout
};

class OidcClient {
 public:
  OidcClient(OutboundHttp& http, const Clock& clock, OidcSettings settings)
      : http_(http), clock_(clock), settings_(std::move(settings)) {}

  // Discovery, cached after the first success.
  Result<ProviderMetadata> Metadata();
  Result<LoginStart> StartLogin(const std::string& redirect_uri);
  // Redeems `code` (with the verifier) and verifies the id_token against `nonce`.
  Result<SignedIn> FinishLogin(const std::string& code, const std::string& code_verifier,
                               const std::string& nonce, const std::string& redirect_uri);
  // The provider's end-session URL for this user, or "" when it has none.
  Result<std::string> LogoutUrl(const std::string& id_token_hint,
                                const std::string& post_logout_redirect_uri);
  const OidcSettings& settings() const { return settings_; }

  // The PKCE S256 challenge of a verifier (RFC 7636 §4.2).
  static std::string CodeChallenge(const std::string& verifier);

 private:
  Result<std::shared_ptr<const JsonWebKeySet>> Keys(bool refetch);
  Result<ProviderMetadata> Discover();

  OutboundHttp& http_;
  const Clock& clock_;
  OidcSettings settings_;
  std::mutex mutex_;  // guards the cached discovery and keys below
  std::optional<ProviderMetadata> metadata_;
  std::optional<Status> discovery_failure_;  // remembered briefly, so an outage costs little
  int64_t discovery_failed_at_ = 0;
  std::shared_ptr<const JsonWebKeySet> keys_;
  int64_t keys_fetched_at_ = 0;  // refetches (unknown kid) at most every 10 s
};

}  // namespace apm::auth
