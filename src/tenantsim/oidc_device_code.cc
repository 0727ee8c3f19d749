// The device code flow of the simulated Entra ID (RFC 8628 as Microsoft's v2 endpoint answers
// it): a public client asks for a code, the user enters it on /devicelogin and picks a test
// user, the client's polls get authorization_pending until then and a delegated token after.
// Facts: docs/graph-facts.md#device-code.
#include <algorithm>
#include <cctype>

#include "core/text.h"
#include "server/json_text.h"
#include "server/random_guid.h"
#include "tenantsim/oidc_helpers.h"
#include "tenantsim/oidc_pages.h"
#include "tenantsim/oidc_provider.h"

namespace apm::sim {

using json = nlohmann::json;

namespace {

// Nine letters and digits as Entra shows them (no 0/O or 1/I to misread).
std::string NewUserCode() {
  static constexpr char kAlphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  std::string raw = RandomUrlSafe(16), code;
  for (char c : raw) {
    if (code.size() == 9) break;
    code.push_back(kAlphabet[static_cast<unsigned char>(c) % (sizeof kAlphabet - 1)]);
  }
  return code;
}

// Delegated Graph scopes only an administrator may consent to (Graph's permissions reference).
bool NeedsAdminConsent(const std::string& scope) {
  static const char* const kAdminScopes[] = {"Application.ReadWrite.All",
                                             "AppRoleAssignment.ReadWrite.All",
                                             "Group.ReadWrite.All",
                                             "Directory.Read.All",
                                             "Directory.ReadWrite.All",
                                             "DeviceManagementServiceConfig.ReadWrite.All",
                                             "DeviceManagementServiceConfig.Read.All",
                                             "GroupMember.ReadWrite.All"};
  for (const std::string& s : SplitSpaces(scope)) {
    std::string name = s.substr(s.rfind('/') == std::string::npos ? 0 : s.rfind('/') + 1);
    for (const char* admin : kAdminScopes) {
      if (name == admin) return true;
    }
  }
  return false;
}

bool IsAdministrator(const std::vector<std::string>& roles) {
  for (const char* r : {"Global Administrator", "Privileged Role Administrator",
                        "Cloud Application Administrator", "Application Administrator"}) {
    if (std::find(roles.begin(), roles.end(), r) != roles.end()) return true;
  }
  return false;
}

TokenError DeviceError(const char* error, int64_t aadsts, const std::string& text) {
  return TokenError{400, error, aadsts, "AADSTS" + std::to_string(aadsts) + ": " + text};
}

}  // namespace

void OidcProvider::set_organisation_consented(bool consented) {
  std::lock_guard lock(mu_);
  organisation_consented_ = consented;
}

void OidcProvider::set_device_code_interval(int seconds) {
  std::lock_guard lock(mu_);
  device_code_interval_ = seconds;
}

json OidcProvider::PendingDeviceCodes() const {
  std::lock_guard lock(mu_);
  json out = json::array();
  for (const auto& [device_code, g] : device_grants_) {
    if (g.user_oid.empty() && !g.declined && g.expires_at_ms >= clock_.NowMs()) {
      out.push_back({{"user_code", g.user_code}, {"client_id", g.client_id}});
    }
  }
  return out;
}

std::variant<json, TokenError> OidcProvider::StartDeviceCode(
    const std::map<std::string, std::string>& form, const std::string& base_url) {
  const std::string client_id = Param(form, "client_id");
  if (client_id.empty()) return MissingField("client_id");
  const std::string scope = Param(form, "scope");
  if (scope.empty()) return MissingField("scope");
  std::optional<SimApp> app = identity_.FindApp(client_id);
  if (!app) {
    return TokenError{400, "unauthorized_client", 700016,
                      "AADSTS700016: Application with identifier '" + client_id +
                          "' was not found in the directory '" + identity_.tenant_id() + "'."};
  }
  if (!app->public_client) {
    return TokenError{400, "invalid_client", 7000218,
                      "AADSTS7000218: The request body must contain the following parameter: "
                      "'client_assertion' or 'client_secret'."};
  }
  const std::string device_code = RandomUrlSafe(48);
  const std::string user_code = NewUserCode();
  const std::string uri = Base(base_url) + "/devicelogin";
  std::lock_guard lock(mu_);
  // Expired codes are kept a while, so a late poll hears expired_token, not an unknown code.
  std::erase_if(device_grants_, [&](const auto& g) {
    return g.second.expires_at_ms + 10 * 60'000 < clock_.NowMs();
  });
  device_grants_[device_code] = DeviceGrant{
      user_code, client_id, scope, "", "", "", clock_.NowMs() + kDeviceCodeLifetimeSeconds * 1000};
  return json{{"user_code", user_code},
              {"device_code", device_code},
              {"verification_uri", uri},
              {"expires_in", kDeviceCodeLifetimeSeconds},
              {"interval", device_code_interval_},
              {"message", "To sign in, use a web browser to open the page " + uri +
                              " and enter the code " + user_code + " to authenticate."}};
}

OidcAnswer OidcProvider::DeviceLogin(bool is_post,
                                     const std::map<std::string, std::string>& params) {
  DeviceLoginPage page;
  page.action = "/devicelogin";
  page.code = Param(params, "code");
  for (const TestUser& u : test_users()) {
    page.users.push_back(PickerUser{u.oid, u.display_name, u.upn, {}, false});
  }
  if (!is_post) return HtmlAnswer(200, RenderDeviceLogin(page));
  const std::string user_id = Param(params, "user");
  std::optional<TestUser> user = FindTestUser(user_id);
  std::string code = Trim(page.code);
  std::transform(code.begin(), code.end(), code.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  std::lock_guard lock(mu_);
  auto grant = std::find_if(device_grants_.begin(), device_grants_.end(), [&](const auto& g) {
    return g.second.user_code == code && g.second.expires_at_ms >= clock_.NowMs() &&
           g.second.user_oid.empty() && !g.second.declined;
  });
  if (grant == device_grants_.end()) {
    page.notice = "That code didn't work. Check the code and try again.";
    return HtmlAnswer(400, RenderDeviceLogin(page));
  }
  if (!user) {
    page.notice = "Pick the account to sign in with.";
    return HtmlAnswer(400, RenderDeviceLogin(page));
  }
  std::optional<SimApp> app = identity_.FindApp(grant->second.client_id);
  const std::string app_name = app ? app->display_name : grant->second.client_id;
  if (!organisation_consented_ && NeedsAdminConsent(grant->second.scope) &&
      !IsAdministrator(model_.DirectoryRoles(user->oid))) {
    grant->second.declined = true;
    return HtmlAnswer(200, RenderDeviceNeedsAdmin(app_name, user->upn));
  }
  grant->second.user_oid = user->oid;
  grant->second.upn = user->upn;
  grant->second.display_name = user->display_name;
  return HtmlAnswer(
      200, RenderDeviceSignedIn(app ? app->display_name : grant->second.client_id, user->upn));
}

std::variant<json, TokenError> OidcProvider::RedeemDeviceCode(
    const std::map<std::string, std::string>& form, const std::string& base_url) {
  const std::string client_id = Param(form, "client_id");
  if (client_id.empty()) return MissingField("client_id");
  const std::string device_code = Param(form, "device_code");
  if (device_code.empty()) return MissingField("device_code");
  DeviceGrant grant;
  {
    std::lock_guard lock(mu_);
    auto it = device_grants_.find(device_code);
    if (it == device_grants_.end() || it->second.client_id != client_id) {
      return DeviceError("bad_verification_code", 70018, "Invalid verification code was entered.");
    }
    if (it->second.expires_at_ms < clock_.NowMs()) {
      device_grants_.erase(it);
      return DeviceError("expired_token", 70019, "Verification code expired.");
    }
    if (it->second.declined) {
      device_grants_.erase(it);
      return DeviceError("authorization_declined", 70000,
                         "The user could not consent: the application needs permissions that "
                         "only an administrator can grant.");
    }
    if (it->second.user_oid.empty()) {
      return DeviceError("authorization_pending", 70016,
                         "OAuth 2.0 device flow error. Authorization is pending. Continue "
                         "polling.");
    }
    grant = it->second;
    device_grants_.erase(it);  // a device code gives one token
  }
  std::vector<std::string> graph_scopes;
  const std::string granted = GrantedScopes(grant.scope, &graph_scopes);
  std::optional<IssuedToken> access =
      identity_.IssueDelegatedToken(client_id, grant.user_oid, graph_scopes);
  if (!access) return MissingField("client_id");  // the app was removed meanwhile
  json answer = {{"token_type", "Bearer"},
                 {"scope", granted},
                 {"expires_in", access->expires_in},
                 {"ext_expires_in", access->expires_in},
                 {"access_token", access->access_token}};
  const std::vector<std::string> asked = SplitSpaces(grant.scope);
  if (std::find(asked.begin(), asked.end(), "openid") != asked.end()) {
    Code code;
    code.client_id = client_id;
    code.user_oid = grant.user_oid;
    code.upn = grant.upn;
    code.display_name = grant.display_name;
    code.sid = RandomGuid();
    Result<std::string> id_token = keys_.SignJwt(IdTokenClaims(code, Issuer(base_url)));
    if (id_token.ok()) answer["id_token"] = *id_token;
  }
  return answer;
}

}  // namespace apm::sim
