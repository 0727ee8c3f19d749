#include "tenantsim/identity.h"

#include <openssl/rand.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "core/base64.h"
#include "core/text.h"
#include "server/json_text.h"
#include "server/random_guid.h"
#include "tenantsim/client_assertion.h"

namespace apm::sim {
namespace {

constexpr const char* kGraphScope = "https://graph.microsoft.com/.default";

std::string RandomToken() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) std::abort();
  return Base64UrlEncodeNoPad(std::string_view(reinterpret_cast<char*>(bytes), sizeof bytes));
}

// An app-only Graph token shaped as Entra issues them: a JWT whose payload names the app and
// its application permissions (`roles`). Clients must not validate Graph's tokens, and the
// simulator looks tokens up whole, so the third part is random rather than a signature.
std::string AppOnlyGraphToken(const std::string& tenant_id, const SimApp& app, int64_t now_ms,
                              int64_t lifetime_s) {
  if (app.opaque_tokens) return RandomToken();
  const int64_t now = now_ms / 1000;
  const nlohmann::json header = {{"typ", "JWT"}, {"alg", "RS256"}, {"kid", "sim-graph"}};
  const nlohmann::json payload = {{"aud", "https://graph.microsoft.com"},
                                  {"iss", "https://sts.windows.net/" + tenant_id + "/"},
                                  {"iat", now},
                                  {"nbf", now},
                                  {"exp", now + lifetime_s},
                                  {"appid", app.client_id},
                                  {"idtyp", "app"},
                                  {"roles", app.roles},
                                  {"tid", tenant_id}};
  return Base64UrlEncodeNoPad(header.dump()) + "." + Base64UrlEncodeNoPad(payload.dump()) + "." +
         RandomToken();
}

const std::string* FormField(const std::map<std::string, std::string>& form, const char* name) {
  auto it = form.find(name);
  return it == form.end() ? nullptr : &it->second;
}

}  // namespace

Identity::Identity(const Clock& clock, std::string tenant_id, std::string tenant_domain)
    : clock_(clock), tenant_id_(std::move(tenant_id)), tenant_domain_(std::move(tenant_domain)) {}

void Identity::AddApp(SimApp app) {
  // Graph lists every registration by its object id, one made on the command line too.
  if (app.object_id.empty()) app.object_id = RandomGuid();
  std::lock_guard lock(mu_);
  std::string id = app.client_id;
  apps_[id] = std::move(app);
}

bool Identity::IsTenant(const std::string& tenant) const {
  return EqualsIgnoreCase(tenant, tenant_id_) || EqualsIgnoreCase(tenant, tenant_domain_);
}

std::variant<IssuedToken, TokenError> Identity::ClientCredentials(
    const std::map<std::string, std::string>& form, const std::string& called_url) {
  const std::string* grant = FormField(form, "grant_type");
  if (!grant || grant->empty()) {
    return TokenError{400, "invalid_request", 900144,
                      "AADSTS900144: The request body must contain the following parameter: "
                      "'grant_type'."};
  }
  if (*grant != "client_credentials") {
    return TokenError{400, "unsupported_grant_type", 70003,
                      "AADSTS70003: The app requested an unsupported grant type '" + *grant + "'."};
  }
  const std::string* client_id = FormField(form, "client_id");
  if (!client_id || client_id->empty()) {
    return TokenError{400, "invalid_request", 900144,
                      "AADSTS900144: The request body must contain the following parameter: "
                      "'client_id'."};
  }
  const std::string* scope = FormField(form, "scope");
  // Microsoft's Logs Ingestion samples ask for the monitor audience with a double slash.
  const bool monitor = scope && (*scope == "https://monitor.azure.com//.default" ||
                                 *scope == "https://monitor.azure.com/.default");
  if (!scope || (*scope != kGraphScope && !monitor)) {
    return TokenError{400, "invalid_scope", 70011,
                      "AADSTS70011: The provided request must include a 'scope' input parameter. "
                      "The provided value for the input parameter 'scope' is not valid."};
  }
  if (std::optional<TokenError> e = AuthenticateClient(form, called_url)) return *e;
  std::lock_guard lock(mu_);
  IssuedToken t{monitor ? RandomToken()
                        : AppOnlyGraphToken(tenant_id_, apps_.at(*client_id), clock_.NowMs(),
                                            kTokenLifetimeSeconds),
                kTokenLifetimeSeconds};
  tokens_[t.access_token] =
      Grant{*client_id, clock_.NowMs() + kTokenLifetimeSeconds * 1000, "", {}, monitor};
  return t;
}

std::optional<TokenError> Identity::AuthenticateClient(
    const std::map<std::string, std::string>& form, const std::string& called_url) {
  const std::string* client_id = FormField(form, "client_id");
  if (!client_id || client_id->empty()) {
    return TokenError{400, "invalid_request", 900144,
                      "AADSTS900144: The request body must contain the following parameter: "
                      "'client_id'."};
  }
  std::lock_guard lock(mu_);
  auto app = apps_.find(*client_id);
  if (app == apps_.end()) {
    return TokenError{400, "unauthorized_client", 700016,
                      "AADSTS700016: Application with identifier '" + *client_id +
                          "' was not found in the directory '" + tenant_id_ + "'."};
  }
  return AuthenticateClientLocked(app->second, form, called_url);
}

std::optional<TokenError> Identity::AuthenticateClientLocked(
    const SimApp& app, const std::map<std::string, std::string>& form,
    const std::string& called_url) {
  const std::string& client_id = app.client_id;
  const std::string* secret = FormField(form, "client_secret");
  const std::string* assertion = FormField(form, "client_assertion");
  const std::string* assertion_type = FormField(form, "client_assertion_type");
  if (assertion || assertion_type) {
    if (!assertion_type || *assertion_type != kJwtBearerAssertionType) {
      return TokenError{400, "invalid_request", 50027,
                        "AADSTS50027: JWT token is invalid or malformed. The "
                        "'client_assertion_type' must be '" +
                            std::string(kJwtBearerAssertionType) + "'."};
    }
    if (!assertion || assertion->empty()) {
      return TokenError{400, "invalid_request", 900144,
                        "AADSTS900144: The request body must contain the following parameter: "
                        "'client_assertion'."};
    }
    std::vector<std::string> audiences = {
        "https://login.microsoftonline.com/" + tenant_id_ + "/oauth2/v2.0/token",
        "https://login.microsoftonline.com/" + tenant_domain_ + "/oauth2/v2.0/token"};
    if (!called_url.empty()) audiences.push_back(called_url);
    int64_t now = clock_.NowMs();
    // Any of the app's certificates may sign (a renewal uploads the new one beside the old).
    std::vector<std::string> certificates = {app.certificate_pem};
    for (const nlohmann::json& k : app.key_credentials) {
      std::optional<UploadedCertificate> c = CertificateFromBase64Der(StringMember(k, "key"));
      if (c && c->pem != app.certificate_pem) certificates.push_back(c->pem);
    }
    auto checked = VerifyClientAssertion(*assertion, client_id, certificates[0], audiences, now);
    for (size_t i = 1; i < certificates.size() && std::holds_alternative<TokenError>(checked);
         ++i) {
      checked = VerifyClientAssertion(*assertion, client_id, certificates[i], audiences, now);
    }
    if (const TokenError* e = std::get_if<TokenError>(&checked)) return *e;
    const AssertionClaims& claims = std::get<AssertionClaims>(checked);
    std::erase_if(used_jtis_, [&](const auto& entry) { return entry.second <= now; });
    if (!used_jtis_.emplace(claims.jti, claims.exp_ms).second) {
      return TokenError{400, "invalid_request", 50027,
                        "AADSTS50027: JWT token is invalid or malformed. The client assertion "
                        "'jti' " +
                            claims.jti + " was already used."};
    }
    return std::nullopt;
  }
  if (!secret) {
    return TokenError{401, "invalid_client", 7000218,
                      "AADSTS7000218: The request body must contain the following parameter: "
                      "'client_assertion' or 'client_secret'."};
  }
  // The secret given on the command line, or one added through Graph.
  const bool primary = !app.client_secret.empty() && *secret == app.client_secret;
  const auto added = std::find_if(app.passwords.begin(), app.passwords.end(),
                                  [&](const SimPassword& p) { return p.secret == *secret; });
  if (!primary && added == app.passwords.end()) {
    return TokenError{401, "invalid_client", 7000215,
                      "AADSTS7000215: Invalid client secret provided. Ensure the secret being "
                      "sent in the request is the client secret value, not the client secret "
                      "ID, for a secret added to app '" +
                          client_id + "'."};
  }
  if (primary ? app.secret_expired : added->end_ms <= clock_.NowMs()) {
    return TokenError{401, "invalid_client", 7000222,
                      "AADSTS7000222: The provided client secret keys for app '" + client_id +
                          "' are expired. Visit the Azure portal to create new keys for your "
                          "app: https://aka.ms/NewClientSecret, or consider using certificate "
                          "credentials for added security: https://aka.ms/certCreds."};
  }
  return std::nullopt;
}

std::optional<IssuedToken> Identity::IssueToken(const std::string& client_id) {
  std::lock_guard lock(mu_);
  if (!apps_.contains(client_id)) return std::nullopt;
  IssuedToken t{
      AppOnlyGraphToken(tenant_id_, apps_.at(client_id), clock_.NowMs(), kTokenLifetimeSeconds),
      kTokenLifetimeSeconds};
  tokens_[t.access_token] =
      Grant{client_id, clock_.NowMs() + kTokenLifetimeSeconds * 1000, "", {}, false};
  return t;
}

std::optional<IssuedToken> Identity::IssueDelegatedToken(const std::string& client_id,
                                                         const std::string& user_id,
                                                         std::vector<std::string> scopes) {
  std::lock_guard lock(mu_);
  if (!apps_.contains(client_id) || user_id.empty()) return std::nullopt;
  IssuedToken t{RandomToken(), kTokenLifetimeSeconds};
  tokens_[t.access_token] = Grant{client_id, clock_.NowMs() + kTokenLifetimeSeconds * 1000, user_id,
                                  std::move(scopes), false};
  return t;
}

std::optional<SimApp> Identity::Authenticate(const std::string& access_token) {
  std::optional<Caller> caller = AuthenticateCaller(access_token);
  if (!caller) return std::nullopt;
  return std::move(caller->app);
}

std::optional<Caller> Identity::AuthenticateCaller(const std::string& access_token) {
  std::lock_guard lock(mu_);
  auto it = tokens_.find(access_token);
  if (it == tokens_.end()) return std::nullopt;
  if (clock_.NowMs() >= it->second.expires_at_ms) {
    tokens_.erase(it);
    return std::nullopt;
  }
  if (it->second.monitor) return std::nullopt;  // not a Graph token
  auto app = apps_.find(it->second.client_id);
  if (app == apps_.end()) return std::nullopt;
  Caller caller{app->second, it->second.user_id};
  // A user token carries the user's delegated scopes, never the app's application roles.
  if (!caller.user_id.empty()) caller.app.roles = it->second.scopes;
  return caller;
}

std::optional<SimApp> Identity::AuthenticateMonitor(const std::string& access_token) {
  std::lock_guard lock(mu_);
  auto it = tokens_.find(access_token);
  if (it == tokens_.end() || !it->second.monitor || clock_.NowMs() >= it->second.expires_at_ms) {
    return std::nullopt;
  }
  auto app = apps_.find(it->second.client_id);
  if (app == apps_.end()) return std::nullopt;
  return app->second;
}

std::optional<SimApp> Identity::FindApp(const std::string& client_id) {
  std::lock_guard lock(mu_);
  auto it = apps_.find(client_id);
  if (it == apps_.end()) return std::nullopt;
  return it->second;
}

std::vector<SimApp> Identity::Apps() {
  std::lock_guard lock(mu_);
  std::vector<SimApp> out;
  for (const auto& [id, app] : apps_) out.push_back(app);
  return out;
}

}  // namespace apm::sim
