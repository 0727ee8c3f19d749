// App-only access tokens for Microsoft Graph by the client-credentials grant, with a client
// secret or a certificate (a signed client-assertion JWT). Tokens are cached and renewed before
// they expire. Facts: docs/graph-facts.md#tokens and #certificate-assertion.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "core/status.h"
#include "server/auth/client_assertion_signer.h"
#include "server/clock.h"
#include "server/http/outbound_http.h"

namespace apm {

struct AppCredentials {
  std::string login_endpoint = "https://login.microsoftonline.com";
  std::string tenant;  // GUID or domain
  std::string client_id;
  std::string client_secret;     // either a secret ...
  std::string certificate_file;  // ... or a PEM certificate
  std::string private_key_file;  // and its PEM private key (may be the same file)
  std::string scope = "https://graph.microsoft.com/.default";
};

class TokenSource {
 public:
  virtual ~TokenSource() = default;
  // A token valid for at least a few more minutes.
  virtual Result<std::string> AccessToken() = 0;
  // Graph refused `token` (401): forget it so the next call fetches a new one.
  virtual void Invalidate(const std::string& token) = 0;
};

class ClientCredentialsTokenSource : public TokenSource {
 public:
  // Loads and checks the certificate and key, when configured; errors name the file.
  static Result<std::unique_ptr<ClientCredentialsTokenSource>> Create(AppCredentials credentials,
                                                                      OutboundHttp& http,
                                                                      const Clock& clock);
  ~ClientCredentialsTokenSource() override;

  Result<std::string> AccessToken() override;
  void Invalidate(const std::string& token) override;

  std::string token_url() const;
  // Token requests sent so far (for metrics and benchmarks).
  int64_t fetches() const;

 private:
  ClientCredentialsTokenSource(AppCredentials credentials, OutboundHttp& http, const Clock& clock,
                               std::shared_ptr<const ClientAssertionSigner> signer);
  // One token request (mu_ held).
  Result<std::string> Fetch(int64_t now);
  static constexpr int64_t kFailureMemoryMs = 5'000;

  AppCredentials credentials_;
  OutboundHttp& http_;
  const Clock& clock_;
  std::shared_ptr<const ClientAssertionSigner> signer_;  // null: the client secret
  mutable std::mutex mu_;  // held while fetching, so concurrent callers share one fetch
  std::string token_;
  int64_t renew_at_ms_ = 0;
  std::atomic<int64_t> fetches_{0};
  Status failure_;
  int64_t failed_until_ms_ = 0;
};

}  // namespace apm
