#include "server/auth/oidc_client.h"

#include <nlohmann/json.hpp>

#include "core/base64.h"
#include "core/sha256.h"
#include "server/http/form.h"
#include "server/random_guid.h"

namespace apm::auth {
namespace {

using json = nlohmann::json;

std::string Field(const json& doc, const char* name) {
  auto it = doc.find(name);
  return it != doc.end() && it->is_string() ? it->get<std::string>() : "";
}

std::string WithQuery(const std::string& url, const std::string& query) {
  return url + (url.find('?') == std::string::npos ? "?" : "&") + query;
}

}  // namespace

std::string OidcClient::CodeChallenge(const std::string& verifier) {
  Sha256Digest digest = Sha256(verifier);
  return Base64UrlEncodeNoPad(
      std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
}

Result<ProviderMetadata> OidcClient::Metadata() {
  constexpr int64_t kFailureMemoMs = 10'000;
  {
    std::lock_guard lock(mutex_);
    if (metadata_) return *metadata_;
    if (discovery_failure_ && clock_.NowMs() - discovery_failed_at_ < kFailureMemoMs) {
      return *discovery_failure_;
    }
  }
  Result<ProviderMetadata> m = Discover();
  std::lock_guard lock(mutex_);
  if (m.ok()) {
    metadata_ = *m;
    discovery_failure_.reset();
  } else {
    discovery_failure_ = m.status();
    discovery_failed_at_ = clock_.NowMs();
  }
  return m;
}

Result<ProviderMetadata> OidcClient::Discover() {
  std::string authority = settings_.authority;
  while (!authority.empty() && authority.back() == '/') authority.pop_back();
  OutboundRequest request;
  request.url = authority + "/.well-known/openid-configuration";
  request.timeout = std::chrono::seconds(10);
  Result<OutboundResponse> answer = http_.Send(request);
  if (!answer.ok()) {
    return Status::Unavailable("the sign-in provider does not answer (" + request.url +
                               "): " + answer.status().message());
  }
  json doc = json::parse(answer->body, nullptr, false);
  if (answer->status != 200 || !doc.is_object()) {
    return Status::Unavailable("the sign-in provider's discovery document (" + request.url +
                               ") answered HTTP " + std::to_string(answer->status));
  }
  ProviderMetadata m{Field(doc, "issuer"), Field(doc, "authorization_endpoint"),
                     Field(doc, "token_endpoint"), Field(doc, "jwks_uri"),
                     Field(doc, "end_session_endpoint")};
  for (auto [name, value] : {std::pair{"issuer", &m.issuer},
                             {"authorization_endpoint", &m.authorization_endpoint},
                             {"token_endpoint", &m.token_endpoint},
                             {"jwks_uri", &m.jwks_uri}}) {
    if (value->empty()) {
      return Status::Unavailable(std::string("the sign-in provider's discovery document has no ") +
                                 name);
    }
  }
  // The issuer must be the authority we were told to trust (tokens are checked against it).
  std::string issuer = m.issuer;
  while (!issuer.empty() && issuer.back() == '/') issuer.pop_back();
  if (issuer != authority) {
    return Status::Unavailable("the sign-in provider's issuer \"" + m.issuer +
                               "\" is not the configured authority \"" + authority + "\"");
  }
  return m;
}

Result<std::shared_ptr<const JsonWebKeySet>> OidcClient::Keys(bool refetch) {
  constexpr int64_t kRefetchIntervalMs = 10'000;
  {
    std::lock_guard lock(mutex_);
    bool recent = clock_.NowMs() - keys_fetched_at_ < kRefetchIntervalMs;
    if (keys_ && (!refetch || recent)) return keys_;
  }
  Result<ProviderMetadata> m = Metadata();
  if (!m.ok()) return m.status();
  OutboundRequest request;
  request.url = m->jwks_uri;
  request.timeout = std::chrono::seconds(10);
  Result<OutboundResponse> answer = http_.Send(request);
  if (!answer.ok())
    return Status::Unavailable("cannot fetch the JWKS: " + answer.status().message());
  if (answer->status != 200) {
    return Status::Unavailable("the JWKS answered HTTP " + std::to_string(answer->status));
  }
  Result<std::shared_ptr<const JsonWebKeySet>> keys = JsonWebKeySet::Parse(answer->body);
  if (!keys.ok()) return keys.status();
  std::lock_guard lock(mutex_);
  keys_ = *keys;
  keys_fetched_at_ = clock_.NowMs();
  return keys_;
}

Result<LoginStart> OidcClient::StartLogin(const std::string& redirect_uri) {
  Result<ProviderMetadata> m = Metadata();
  if (!m.ok()) return m.status();
  LoginStart start{"", RandomToken(32), RandomToken(32), RandomToken(48)};
  start.url = WithQuery(m->authorization_endpoint,
                        "client_id=" + FormEncode(settings_.client_id) +
                            "&response_type=code&redirect_uri=" + FormEncode(redirect_uri) +
                            "&response_mode=query&scope=" + FormEncode(settings_.scopes) +
                            "&state=" + start.state + "&nonce=" + start.nonce + "&code_challenge=" +
                            CodeChallenge(start.code_verifier) + "&code_challenge_method=S256");
  return start;
}

Result<SignedIn> OidcClient::FinishLogin(const std::string& code, const std::string& code_verifier,
                                         const std::string& nonce,
                                         const std::string& redirect_uri) {
  Result<ProviderMetadata> m = Metadata();
  if (!m.ok()) return m.status();
  OutboundRequest request;
  request.method = "POST";
  request.url = m->token_endpoint;
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                     {"Accept", "application/json"}};
  std::string credential = "client_secret=" + FormEncode(settings_.client_secret);
  if (settings_.assertion_signer) {
    Result<std::string> assertion = settings_.assertion_signer->FormFields(
        settings_.client_id, m->token_endpoint, clock_.NowMs() / 1000);
    if (!assertion.ok()) return assertion.status();
    credential = *assertion;
  }
  request.body = "grant_type=authorization_code&code=" + FormEncode(code) +
                 "&redirect_uri=" + FormEncode(redirect_uri) +
                 "&client_id=" + FormEncode(settings_.client_id) + "&" + credential +
                 "&code_verifier=" + FormEncode(code_verifier);
  request.timeout = std::chrono::seconds(15);
  request.idempotent = false;  // a code is good for one redemption
  Result<OutboundResponse> answer = http_.Send(request);
  if (!answer.ok()) {
    return Status::Unavailable("the sign-in provider's token endpoint does not answer: " +
                               answer.status().message());
  }
  json body = json::parse(answer->body, nullptr, false);
  if (answer->status != 200) {
    std::string error = body.is_object() ? Field(body, "error") : "";
    std::string description = body.is_object() ? Field(body, "error_description") : "";
    return Status::PermissionDenied("the sign-in provider refused the code (HTTP " +
                                    std::to_string(answer->status) +
                                    (error.empty() ? "" : ", " + error) +
                                    (description.empty() ? "" : ": " + description) + ")");
  }
  std::string id_token = body.is_object() ? Field(body, "id_token") : "";
  if (id_token.empty()) return Status::PermissionDenied("the token answer has no id_token");
  IdTokenExpectations expect{m->issuer,           settings_.client_id,   nonce,
                             settings_.tenant_id, clock_.NowMs() / 1000, settings_.clock_skew_s};
  for (bool refetch : {false, true}) {
    Result<std::shared_ptr<const JsonWebKeySet>> keys = Keys(refetch);
    if (!keys.ok()) return keys.status();
    Result<IdentityClaims> identity = VerifyIdToken(id_token, **keys, expect);
    if (identity.ok()) return SignedIn{std::move(*identity), id_token};
    // An unknown key may be a rotation: fetch the keys once more, then give up.
    if (identity.status().code() != StatusCode::kNotFound || refetch) {
      return Status::PermissionDenied(identity.status().message());
    }
  }
  return Status::Internal("unreachable");
}

Result<std::string> OidcClient::LogoutUrl(const std::string& id_token_hint,
                                          const std::string& post_logout_redirect_uri) {
  Result<ProviderMetadata> m = Metadata();
  if (!m.ok()) return m.status();
  if (m->end_session_endpoint.empty()) return std::string();
  std::string query = "post_logout_redirect_uri=" + FormEncode(post_logout_redirect_uri) +
                      "&client_id=" + FormEncode(settings_.client_id);
  if (!id_token_hint.empty()) query += "&id_token_hint=" + FormEncode(id_token_hint);
  return WithQuery(m->end_session_endpoint, query);
}

}  // namespace apm::auth
