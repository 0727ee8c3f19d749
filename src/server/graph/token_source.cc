#include "server/graph/token_source.h"

#include <nlohmann/json.hpp>

#include "server/http/form.h"
#include "server/json_text.h"

namespace apm {
namespace {

using json = nlohmann::json;

}  // namespace

Result<std::unique_ptr<ClientCredentialsTokenSource>> ClientCredentialsTokenSource::Create(
    AppCredentials credentials, OutboundHttp& http, const Clock& clock) {
  if (credentials.tenant.empty() || credentials.client_id.empty()) {
    return Status::InvalidArgument("the tenant and the client id are both required");
  }
  std::shared_ptr<const ClientAssertionSigner> signer;
  if (!credentials.certificate_file.empty()) {
    Result<std::shared_ptr<const ClientAssertionSigner>> loaded =
        ClientAssertionSigner::Load(credentials.certificate_file, credentials.private_key_file);
    if (!loaded.ok()) return loaded.status();
    signer = std::move(*loaded);
  } else if (credentials.client_secret.empty()) {
    return Status::InvalidArgument("a client secret or a certificate is required");
  }
  return std::unique_ptr<ClientCredentialsTokenSource>(
      new ClientCredentialsTokenSource(std::move(credentials), http, clock, std::move(signer)));
}

ClientCredentialsTokenSource::ClientCredentialsTokenSource(
    AppCredentials credentials, OutboundHttp& http, const Clock& clock,
    std::shared_ptr<const ClientAssertionSigner> signer)
    : credentials_(std::move(credentials)),
      http_(http),
      clock_(clock),
      signer_(std::move(signer)) {}

ClientCredentialsTokenSource::~ClientCredentialsTokenSource() = default;

std::string ClientCredentialsTokenSource::token_url() const {
  std::string base = credentials_.login_endpoint;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + "/" + credentials_.tenant + "/oauth2/v2.0/token";
}

int64_t ClientCredentialsTokenSource::fetches() const {
  return fetches_.load();
}

Result<std::string> ClientCredentialsTokenSource::AccessToken() {
  std::lock_guard lock(mu_);
  int64_t now = clock_.NowMs();
  if (!token_.empty() && now < renew_at_ms_) return token_;
  // A refusal is remembered briefly, so many waiting calls do not each ask Entra again.
  if (now < failed_until_ms_) return failure_;
  Result<std::string> fetched = Fetch(now);
  if (!fetched.ok()) {
    failure_ = fetched.status();
    failed_until_ms_ = now + kFailureMemoryMs;
  }
  return fetched;
}

Result<std::string> ClientCredentialsTokenSource::Fetch(int64_t now) {
  std::string body =
      "grant_type=client_credentials&client_id=" + FormEncode(credentials_.client_id) +
      "&scope=" + FormEncode(credentials_.scope);
  if (signer_) {
    Result<std::string> assertion =
        signer_->FormFields(credentials_.client_id, token_url(), clock_.NowMs() / 1000);
    if (!assertion.ok()) return assertion.status();
    body += "&" + *assertion;
  } else {
    body += "&client_secret=" + FormEncode(credentials_.client_secret);
  }
  OutboundRequest request;
  request.method = "POST";
  request.url = token_url();
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                     {"Accept", "application/json"}};
  request.body = std::move(body);
  request.timeout = std::chrono::seconds(20);
  ++fetches_;
  Result<OutboundResponse> response = http_.Send(request);
  if (!response.ok()) {
    return Status::Unavailable("token request to " + request.url +
                               " failed: " + response.status().message());
  }
  json answer = json::parse(response->body, nullptr, false);
  if (response->status != 200) {
    std::string why = answer.is_object() && answer.contains("error_description") &&
                              answer["error_description"].is_string()
                          ? answer["error_description"].get<std::string>()
                          : "HTTP " + std::to_string(response->status);
    why = why.substr(0, why.find("\r\n"));  // Entra appends trace and correlation lines
    std::string what = "Entra ID refused the token request for app " + credentials_.client_id +
                       " in tenant " + credentials_.tenant + ": " + why;
    if (response->status >= 500 || response->status == 429) return Status::Unavailable(what);
    return Status::PermissionDenied(what);
  }
  if (!answer.is_object() || !answer.contains("access_token") ||
      !answer["access_token"].is_string() || !answer.contains("expires_in") ||
      !answer["expires_in"].is_number()) {
    return Status::Unavailable("the token answer from " + request.url +
                               " has no access_token/expires_in");
  }
  int64_t lifetime_ms = answer["expires_in"].get<int64_t>() * 1000;
  // Renew five minutes early, or at 90% of a shorter lifetime.
  int64_t margin = std::min<int64_t>(300'000, lifetime_ms / 10);
  token_ = answer["access_token"].get<std::string>();
  renew_at_ms_ = now + lifetime_ms - margin;
  return token_;
}

void ClientCredentialsTokenSource::Invalidate(const std::string& token) {
  std::lock_guard lock(mu_);
  if (token == token_) token_.clear();
}

}  // namespace apm
