#include "tenantsim/oidc_provider.h"

#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <set>

#include "core/base64.h"
#include "core/sha256.h"
#include "core/text.h"
#include "server/http/form.h"
#include "server/json_text.h"
#include "server/random_guid.h"
#include "tenantsim/forged_token.h"
#include "tenantsim/graph_query.h"
#include "tenantsim/oidc_helpers.h"

namespace apm::sim {
namespace {

using json = nlohmann::json;

// Redeemed and expired codes are kept this long after expiry, so a replay is told apart from a
// made-up code (AADSTS54005 rather than a malformed-request error).
constexpr int64_t kCodeMemoryMs = 10 * 60 * 1000;
constexpr const char* kGraphResource = "https://graph.microsoft.com/";

// RFC 7636 §4.1: 43 to 128 unreserved characters (verifier and S256/plain challenge alike).
bool IsPkceText(const std::string& s) {
  if (s.size() < 43 || s.size() > 128) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' ||
           c == '~';
  });
}

std::string Sha256UrlSafe(const std::string& text) {
  Sha256Digest d = Sha256(text);
  return Base64UrlEncodeNoPad(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
}

FormFields ErrorFields(const std::string& error, const std::string& description,
                       const std::string& state) {
  FormFields f = {{"error", error}, {"error_description", description}};
  if (!state.empty()) f.emplace_back("state", state);
  return f;
}

OidcAnswer Redirect(const std::string& location) {
  OidcAnswer a;
  a.status = 302;
  a.headers.emplace_back("Location", location);
  return a;
}

std::string WithQuery(const std::string& uri, const FormFields& fields) {
  std::string out = uri;
  char sep = uri.find('?') == std::string::npos ? '?' : '&';
  for (const auto& [name, value] : fields) {
    out += sep + FormEncode(name) + "=" + FormEncode(value);
    sep = '&';
  }
  return out;
}

TokenError InvalidGrant(int64_t code, const std::string& text) {
  return TokenError{400, "invalid_grant", code, "AADSTS" + std::to_string(code) + ": " + text};
}

}  // namespace

// Shared with oidc_device_code.cc (oidc_helpers.h).
std::string RandomUrlSafe(size_t bytes) {
  std::string raw(bytes, '\0');
  // Same stance as Identity's tokens: without entropy nothing the simulator makes is safe.
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), int(bytes)) != 1) std::abort();
  return Base64UrlEncodeNoPad(raw);
}

std::string Param(const std::map<std::string, std::string>& params, const char* name) {
  auto it = params.find(name);
  return it == params.end() ? "" : it->second;
}

std::vector<std::string> SplitSpaces(const std::string& text) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < text.size()) {
    size_t j = text.find(' ', i);
    if (j == std::string::npos) j = text.size();
    if (j > i) out.push_back(text.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

bool IsOidcScope(const std::string& s) {
  return s == "openid" || s == "profile" || s == "email" || s == "offline_access";
}

OidcAnswer JsonAnswer(int status, const nlohmann::json& body) {
  OidcAnswer a;
  a.status = status;
  a.content_type = "application/json; charset=utf-8";
  a.body = JsonText(body);
  return a;
}

OidcAnswer HtmlAnswer(int status, std::string page) {
  OidcAnswer a;
  a.status = status;
  a.content_type = "text/html; charset=utf-8";
  a.body = std::move(page);
  return a;
}

TokenError MissingField(const char* name) {
  return TokenError{400, "invalid_request", 900144,
                    std::string("AADSTS900144: The request body must contain the following "
                                "parameter: '") +
                        name + "'."};
}

std::string TenantNotFound(const std::string& tenant) {
  return "AADSTS90002: Tenant '" + tenant +
         "' not found. Check to make sure you have the correct tenant ID and are signing into "
         "the correct cloud.";
}

// ---------------------------------------------------------------------------------------------
// Discovery and keys

OidcAnswer OidcProvider::Discovery(const std::string& tenant, const std::string& base_url) {
  if (!identity_.IsTenant(tenant)) {
    return JsonAnswer(400, {{"error", "invalid_tenant"},
                            {"error_description", TenantNotFound(tenant)},
                            {"error_codes", {90002}}});
  }
  // Entra names the tenant by its GUID in every URL, even when asked under the domain.
  std::string root = Base(base_url) + "/" + identity_.tenant_id();
  json body = {
      {"issuer", Issuer(base_url)},
      {"authorization_endpoint", root + "/oauth2/v2.0/authorize"},
      {"token_endpoint", root + "/oauth2/v2.0/token"},
      {"jwks_uri", root + "/discovery/v2.0/keys"},
      {"end_session_endpoint", root + "/oauth2/v2.0/logout"},
      {"response_types_supported", {"code"}},
      {"response_modes_supported", {"query", "form_post"}},
      {"subject_types_supported", {"pairwise"}},
      {"id_token_signing_alg_values_supported", {"RS256"}},
      {"token_endpoint_auth_methods_supported",
       {"client_secret_post", "private_key_jwt", "client_secret_basic"}},
      {"grant_types_supported", {"authorization_code", "client_credentials"}},
      {"scopes_supported", {"openid", "profile", "email", "offline_access"}},
      {"claims_supported",
       {"sub", "iss", "aud", "exp", "iat", "nbf", "nonce", "name", "preferred_username", "oid",
        "tid", "ver", "groups", "sid", "uti", "aio", "rh"}},
      {"code_challenge_methods_supported", {"S256", "plain"}},
      {"request_uri_parameter_supported", false},
  };
  return JsonAnswer(200, body);
}

OidcAnswer OidcProvider::Keys(const std::string& tenant) {
  if (!identity_.IsTenant(tenant)) {
    return JsonAnswer(400, {{"error", "invalid_tenant"},
                            {"error_description", TenantNotFound(tenant)},
                            {"error_codes", {90002}}});
  }
  return JsonAnswer(200, keys_.Jwks());
}

// ---------------------------------------------------------------------------------------------
// Authorize

OidcAnswer OidcProvider::ErrorPage(int status, const std::string& aadsts_message) const {
  std::string ts = FormatTimestamp(clock_.NowMs());
  return HtmlAnswer(status, RenderErrorPage(aadsts_message, RandomGuid(), RandomGuid(), ts));
}

OidcAnswer OidcProvider::Deliver(const std::string& redirect_uri, const std::string& response_mode,
                                 const FormFields& fields) {
  if (response_mode == "form_post") return HtmlAnswer(200, RenderFormPost(redirect_uri, fields));
  return Redirect(WithQuery(redirect_uri, fields));
}

// The response mode, type, scope, PKCE and prompt parameters of an authorization request, read
// into `r`; the OAuth error and its description when one is wrong.
std::optional<std::pair<std::string, std::string>> OidcProvider::ReadFlowParams(
    const std::map<std::string, std::string>& params, const std::string& mode, AuthRequest& r) {
  if (!mode.empty() && mode != "query" && mode != "form_post") {
    return std::pair<std::string, std::string>(
        "invalid_request", "AADSTS9002313: Invalid request. The response_mode '" + mode +
                               "' is not supported; use 'query' or 'form_post'.");
  }
  std::string response_type = Param(params, "response_type");
  if (response_type.empty()) {
    return std::pair<std::string, std::string>(
        "invalid_request",
        "AADSTS900144: The request body must contain the following parameter: "
        "'response_type'.");
  }
  if (response_type != "code") {
    return std::pair<std::string, std::string>(
        "unsupported_response_type",
        "AADSTS700054: response_type '" + response_type +
            "' is not enabled for the application; the simulator supports 'code'.");
  }
  r.scope = Param(params, "scope");
  std::vector<std::string> scopes = SplitSpaces(r.scope);
  if (std::find(scopes.begin(), scopes.end(), "openid") == scopes.end()) {
    return std::pair<std::string, std::string>(
        "invalid_scope",
        "AADSTS70011: The provided value for the input parameter 'scope' is not valid. "
        "The scope must include 'openid'.");
  }
  r.code_challenge = Param(params, "code_challenge");
  r.code_challenge_method = Param(params, "code_challenge_method");
  if (!r.code_challenge_method.empty() && r.code_challenge_method != "S256" &&
      r.code_challenge_method != "plain") {
    return std::pair<std::string, std::string>(
        "invalid_request", "AADSTS9002313: Invalid request. The code_challenge_method '" +
                               r.code_challenge_method +
                               "' is not supported; use 'S256' or 'plain'.");
  }
  if (!r.code_challenge_method.empty() && r.code_challenge.empty()) {
    return std::pair<std::string, std::string>(
        "invalid_request",
        "AADSTS900144: The request body must contain the following parameter: "
        "'code_challenge'.");
  }
  if (!r.code_challenge.empty()) {
    if (!IsPkceText(r.code_challenge)) {
      return std::pair<std::string, std::string>(
          "invalid_request", "AADSTS501491: Invalid size of Code_Challenge parameter.");
    }
    if (r.code_challenge_method.empty()) r.code_challenge_method = "plain";  // RFC 7636 §4.3
  }
  r.prompt = Param(params, "prompt");
  if (!r.prompt.empty() && r.prompt != "login" && r.prompt != "none" && r.prompt != "consent" &&
      r.prompt != "select_account") {
    return std::pair<std::string, std::string>(
        "invalid_request",
        "AADSTS9002313: Invalid request. The prompt '" + r.prompt + "' is not supported.");
  }
  return std::nullopt;
}

std::variant<OidcProvider::AuthRequest, OidcAnswer> OidcProvider::ParseAuthorize(
    const std::string& tenant, const std::map<std::string, std::string>& params) {
  // Errors before the redirect URI is known good cannot go back to the client: a page.
  if (!identity_.IsTenant(tenant)) return ErrorPage(400, TenantNotFound(tenant));
  std::string client_id = Param(params, "client_id");
  if (client_id.empty()) {
    return ErrorPage(400,
                     "AADSTS900144: The request body must contain the following parameter: "
                     "'client_id'.");
  }
  std::optional<SimApp> app = identity_.FindApp(client_id);
  if (!app) {
    return ErrorPage(400, "AADSTS700016: Application with identifier '" + client_id +
                              "' was not found in the directory '" + identity_.tenant_id() +
                              "'. This can happen if the application has not been installed by "
                              "the administrator of the tenant or consented to by any user in "
                              "the tenant. You may have sent your authentication request to the "
                              "wrong tenant.");
  }
  AuthRequest r;
  r.redirect_uri = Param(params, "redirect_uri");
  if (r.redirect_uri.empty() || std::find(app->redirect_uris.begin(), app->redirect_uris.end(),
                                          r.redirect_uri) == app->redirect_uris.end()) {
    return ErrorPage(400, "AADSTS50011: The redirect URI '" + r.redirect_uri +
                              "' specified in the request does not match the redirect URIs "
                              "configured for the application '" +
                              client_id +
                              "'. Make sure the redirect URI sent in the request matches one "
                              "added to your application in the Azure portal.");
  }
  r.app = std::move(*app);
  r.state = Param(params, "state");
  std::string mode = Param(params, "response_mode");
  r.response_mode = mode == "form_post" ? "form_post" : "query";
  auto fail = [&](const std::string& error, const std::string& description) {
    return Deliver(r.redirect_uri, r.response_mode, ErrorFields(error, description, r.state));
  };
  if (std::optional<std::pair<std::string, std::string>> wrong = ReadFlowParams(params, mode, r)) {
    return fail(wrong->first, wrong->second);
  }
  r.nonce = Param(params, "nonce");
  r.login_hint = Param(params, "login_hint");
  return r;
}

OidcAnswer OidcProvider::Authorize(bool is_post, const std::string& tenant, const std::string& path,
                                   const std::map<std::string, std::string>& params) {
  auto parsed = ParseAuthorize(tenant, params);
  if (OidcAnswer* answer = std::get_if<OidcAnswer>(&parsed)) return std::move(*answer);
  const AuthRequest& r = std::get<AuthRequest>(parsed);
  std::optional<TestUser> hinted = r.login_hint.empty() ? std::nullopt : FindTestUser(r.login_hint);
  if (std::string chosen = Param(params, "user"); is_post && !chosen.empty()) {
    std::optional<TestUser> user = FindTestUser(chosen);
    if (!user) return Picker(r, path, "There is no test user '" + chosen + "'. Pick one.", 400);
    return IssueCode(r, *user);
  }
  if (r.prompt == "none") {
    // No sessions are kept: a login_hint naming a test user stands for the signed-in user.
    if (hinted) return IssueCode(r, *hinted);
    return Deliver(r.redirect_uri, r.response_mode,
                   ErrorFields("login_required",
                               "AADSTS50058: A silent sign-in request was sent but no user is "
                               "signed in.",
                               r.state));
  }
  if (r.app.auto_login && hinted && r.prompt != "login" && r.prompt != "select_account") {
    return IssueCode(r, *hinted);
  }
  std::string notice;
  if (!r.login_hint.empty() && !hinted) {
    notice = "No test user matches the login hint '" + r.login_hint + "'.";
  }
  return Picker(r, path, notice, 200);
}

OidcAnswer OidcProvider::Picker(const AuthRequest& r, const std::string& path,
                                const std::string& notice, int status) {
  PickerPage page;
  page.action = path;
  page.client_id = r.app.client_id;
  page.notice = notice;
  FormFields all = {{"client_id", r.app.client_id},
                    {"response_type", "code"},
                    {"redirect_uri", r.redirect_uri},
                    {"response_mode", r.response_mode},
                    {"scope", r.scope},
                    {"state", r.state},
                    {"nonce", r.nonce},
                    {"code_challenge", r.code_challenge},
                    {"code_challenge_method", r.code_challenge_method},
                    {"login_hint", r.login_hint}};
  for (auto& [name, value] : all) {
    if (!value.empty()) page.hidden.emplace_back(name, value);
  }
  for (const TestUser& u : test_users()) {
    PickerUser p{u.oid, u.display_name, u.upn, {}, false};
    p.suggested = !r.login_hint.empty() &&
                  (EqualsIgnoreCase(u.upn, r.login_hint) || EqualsIgnoreCase(u.oid, r.login_hint));
    // Transitive and current, so memberships changed through Graph show too.
    for (const std::string& id :
         model_.MemberObjects(u.oid, false).value_or(std::vector<std::string>())) {
      std::optional<json> g = model_.GetGroup(id);
      std::string name = g ? StringMember(*g, "displayName") : "";
      p.group_names.push_back(name.empty() ? id : name);
    }
    std::sort(p.group_names.begin(), p.group_names.end());
    page.users.push_back(std::move(p));
  }
  return HtmlAnswer(status, RenderPicker(page));
}

OidcAnswer OidcProvider::IssueCode(const AuthRequest& r, const TestUser& user) {
  Code c;
  c.client_id = r.app.client_id;
  c.redirect_uri = r.redirect_uri;
  c.user_oid = user.oid;
  c.upn = user.upn;
  c.display_name = user.display_name;
  c.nonce = r.nonce;
  c.scope = r.scope;
  c.code_challenge = r.code_challenge;
  c.code_challenge_method = r.code_challenge_method;
  c.sid = RandomGuid();
  int64_t now = clock_.NowMs();
  c.expires_at_ms = now + kCodeLifetimeMs;
  std::string code = RandomUrlSafe(48);
  {
    std::lock_guard lock(mu_);
    std::erase_if(codes_,
                  [&](const auto& e) { return e.second.expires_at_ms + kCodeMemoryMs <= now; });
    codes_[code] = std::move(c);
  }
  FormFields fields = {{"code", code}};
  if (!r.state.empty()) fields.emplace_back("state", r.state);
  return Deliver(r.redirect_uri, r.response_mode, fields);
}

// ---------------------------------------------------------------------------------------------
// Token

// Checks a code against what redeems it and marks it redeemed; failed checks leave it usable.
std::variant<OidcProvider::Code, TokenError> OidcProvider::SpendCode(
    const std::string& code_text, const std::string& client_id, const std::string& redirect_uri,
    const std::string& verifier) {
  std::lock_guard lock(mu_);
  auto it = codes_.find(code_text);
  if (it == codes_.end()) {
    return InvalidGrant(9002313,
                        "Invalid request. Request is malformed or invalid. The provided "
                        "authorization code is not known.");
  }
  Code& c = it->second;
  if (c.redeemed) {
    // Tokens issued for the first redemption stay valid: Entra revokes nothing here.
    return InvalidGrant(54005,
                        "OAuth2 Authorization code was already redeemed, please retry with a "
                        "new valid code or use an existing refresh token.");
  }
  if (clock_.NowMs() >= c.expires_at_ms) {
    return InvalidGrant(70008,
                        "The provided authorization code or refresh token has expired due to "
                        "inactivity. Send a new interactive authorization request for this "
                        "user and resource.");
  }
  if (c.client_id != client_id) {
    return InvalidGrant(70000,
                        "The provided value for the 'code' parameter is not valid: the code "
                        "was issued to another application.");
  }
  if (c.redirect_uri != redirect_uri) {
    return InvalidGrant(50011, "The redirect URI '" + redirect_uri +
                                   "' specified in the request does not match the redirect "
                                   "URI used in the authorization request.");
  }
  if (!c.code_challenge.empty()) {
    if (verifier.empty()) return MissingField("code_verifier");
    std::string derived = c.code_challenge_method == "S256" ? Sha256UrlSafe(verifier) : verifier;
    if (!IsPkceText(verifier) || derived != c.code_challenge) {
      return InvalidGrant(501481,
                          "The Code_Verifier does not match the code_challenge supplied in "
                          "the authorization request.");
    }
  }
  // Failed attempts above leave the code usable; only a redemption spends it.
  c.redeemed = true;
  return c;
}

std::string GrantedScopes(const std::string& scope, std::vector<std::string>* graph_scopes) {
  std::vector<std::string> oidc_scopes;
  for (std::string s : SplitSpaces(scope)) {
    if (IsOidcScope(s)) {
      // No refresh tokens are issued, so offline_access is not granted.
      if (s != "offline_access") oidc_scopes.push_back(s);
      continue;
    }
    if (s.starts_with(kGraphResource)) s = s.substr(std::string_view(kGraphResource).size());
    if (s == ".default") s = "User.Read";
    if (std::find(graph_scopes->begin(), graph_scopes->end(), s) == graph_scopes->end()) {
      graph_scopes->push_back(s);
    }
  }
  // Entra grants Graph's User.Read with a sign-in even when only OIDC scopes were asked for.
  if (std::find(graph_scopes->begin(), graph_scopes->end(), "User.Read") == graph_scopes->end()) {
    graph_scopes->insert(graph_scopes->begin(), "User.Read");
  }
  std::string granted;
  for (const auto* list : {graph_scopes, &oidc_scopes}) {
    for (const std::string& s : *list) granted += (granted.empty() ? "" : " ") + s;
  }

  return granted;
}

// The user's groups, or the overage pointer to Graph when there are more than the limit.
void OidcProvider::AddGroupClaims(const SimApp& app, const std::string& user_oid, json& claims) {
  std::vector<std::string> groups =
      model_.MemberObjects(user_oid, true).value_or(std::vector<std::string>());
  if (app.group_membership_claims == "ApplicationGroup") {
    std::erase_if(groups, [&](const std::string& g) {
      return std::none_of(app.assigned.begin(), app.assigned.end(),
                          [&](const SimAssignment& a) { return a.principal_id == g; });
    });
  }
  size_t limit;
  {
    std::lock_guard lock(mu_);
    limit = group_overage_limit_;
  }
  if (groups.size() > limit) {
    claims["_claim_names"] = {{"groups", "src1"}};
    claims["_claim_sources"] = {{"src1",
                                 {{"endpoint", "https://graph.microsoft.com/v1.0/users/" +
                                                   user_oid + "/getMemberObjects"}}}};
  } else {
    claims["groups"] = std::move(groups);
  }
}

std::variant<json, TokenError> OidcProvider::RedeemCode(
    const std::map<std::string, std::string>& form, const std::string& called_url,
    const std::string& base_url) {
  if (std::optional<TokenError> e = identity_.AuthenticateClient(form, called_url)) return *e;
  std::string client_id = Param(form, "client_id");
  std::optional<SimApp> app = identity_.FindApp(client_id);
  if (!app) return MissingField("client_id");  // removed meanwhile; cannot happen in practice
  std::string code_text = Param(form, "code");
  if (code_text.empty()) return MissingField("code");
  std::string redirect_uri = Param(form, "redirect_uri");
  std::string verifier = Param(form, "code_verifier");
  std::variant<Code, TokenError> spent = SpendCode(code_text, client_id, redirect_uri, verifier);
  if (auto* e = std::get_if<TokenError>(&spent)) return *e;
  const Code& code = std::get<Code>(spent);
  std::vector<std::string> graph_scopes;
  std::string granted = GrantedScopes(code.scope, &graph_scopes);
  json claims = IdTokenClaims(code, Issuer(base_url));
  if (app->group_claims) AddGroupClaims(*app, code.user_oid, claims);
  std::string fault;
  {
    std::lock_guard lock(mu_);
    fault = id_token_fault_;
  }
  if (fault == "expired") claims["exp"] = claims["iat"].get<int64_t>() - 3600;
  if (fault == "wrong-audience") claims["aud"] = "another-application";
  if (fault == "wrong-nonce") claims["nonce"] = "not-the-nonce-that-was-sent";
  Result<std::string> id_token = keys_.SignJwt(claims);
  if (id_token.ok() && !fault.empty()) *id_token = ForgeToken(*id_token, fault, keys_.Jwks());
  if (!id_token.ok()) {
    return TokenError{
        500, "server_error", 90033,
        "AADSTS90033: A transient error has occurred. " + id_token.status().message()};
  }
  std::optional<IssuedToken> access =
      identity_.IssueDelegatedToken(client_id, code.user_oid, graph_scopes);
  if (!access) return MissingField("client_id");  // the app was removed meanwhile
  return json{{"token_type", "Bearer"},
              {"scope", granted},
              {"expires_in", access->expires_in},
              {"ext_expires_in", access->expires_in},
              {"access_token", access->access_token},
              {"id_token", *id_token}};
}

json OidcProvider::IdTokenClaims(const Code& code, const std::string& issuer) const {
  int64_t now = clock_.NowMs() / 1000;
  json claims = {
      {"aud", code.client_id},
      {"iss", issuer},
      {"iat", now},
      {"nbf", now},
      {"exp", now + kIdTokenLifetimeSeconds},
      {"name", code.display_name},
      {"oid", code.user_oid},
      {"preferred_username", code.upn},
      {"rh", "0." + RandomUrlSafe(48) + "."},
      // Pairwise: the same user has a different, stable sub in every app.
      {"sub", Sha256UrlSafe(code.user_oid + code.client_id)},
      {"tid", identity_.tenant_id()},
      {"uti", RandomUrlSafe(16)},
      {"ver", "2.0"},
      {"sid", code.sid},
      {"aio", RandomUrlSafe(48)},
  };
  if (!code.nonce.empty()) claims["nonce"] = code.nonce;
  return claims;
}

// ---------------------------------------------------------------------------------------------
// Logout

OidcAnswer OidcProvider::Logout(const std::string& tenant,
                                const std::map<std::string, std::string>& params) {
  if (!identity_.IsTenant(tenant)) return ErrorPage(400, TenantNotFound(tenant));
  std::string uri = Param(params, "post_logout_redirect_uri");
  std::string state = Param(params, "state");
  // The app is named by client_id or by the id_token_hint's audience (when we signed it);
  // without either, any registered app's URIs qualify.
  std::string client_id = Param(params, "client_id");
  if (std::string hint = Param(params, "id_token_hint"); client_id.empty() && !hint.empty()) {
    if (std::optional<json> payload = keys_.Verify(hint)) {
      client_id = StringMember(*payload, "aud");
    }
  }
  std::vector<SimApp> apps;
  if (client_id.empty()) {
    apps = identity_.Apps();
  } else if (std::optional<SimApp> app = identity_.FindApp(client_id)) {
    apps.push_back(std::move(*app));
  }
  bool registered = false;
  for (const SimApp& app : apps) {
    for (const auto* list : {&app.redirect_uris, &app.post_logout_redirect_uris}) {
      registered = registered || std::find(list->begin(), list->end(), uri) != list->end();
    }
  }
  if (!uri.empty() && registered) {
    FormFields fields;
    if (!state.empty()) fields.emplace_back("state", state);
    return Redirect(WithQuery(uri, fields));
  }
  std::string notice;
  if (!uri.empty()) {
    notice = "Not returning to '" + uri + "': it is not a registered redirect URI of the app.";
  }
  return HtmlAnswer(200, RenderSignedOut(notice));
}

}  // namespace apm::sim
