#include "tenantsim/sim_handler.h"

#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <nlohmann/json.hpp>

#include "core/base64.h"
#include "core/http_date.h"
#include "core/text.h"
#include "server/http/form.h"
#include "server/json_text.h"
#include "server/random_guid.h"

namespace apm::sim {
namespace {

using json = nlohmann::json;

StringResponse JsonAnswer(const InboundRequest& req, http::status status, const json& body) {
  StringResponse res{status, req.message.version()};
  res.set(http::field::content_type, "application/json; charset=utf-8");
  res.set(http::field::cache_control, "no-store, no-cache");
  res.body() = JsonText(body);
  res.prepare_payload();
  return res;
}

// Entra's error body: error, description, codes, time and trace ids.
json OAuthError(const TokenError& e, int64_t now_ms) {
  std::string ts = FormatTimestamp(now_ms);  // 2026-11-27T08:00:00.000Z
  std::string entra_ts = ts.substr(0, 10) + " " + ts.substr(11, 8) + "Z";
  return {{"error", e.error},          {"error_description", e.description},
          {"error_codes", {e.aadsts}}, {"timestamp", entra_ts},
          {"trace_id", RandomGuid()},  {"correlation_id", RandomGuid()}};
}

// The scheme and host the client used, e.g. "http://127.0.0.1:9090".
std::string BaseUrl(const InboundRequest& req) {
  std::string host(req.message[http::field::host]);
  if (host.empty()) return "https://graph.microsoft.com";
  return (req.secure ? "https://" : "http://") + host;
}

// The same for the sign-in routes, whose URLs land in tokens (issuer): Entra's host when the
// request named none.
std::string LoginBaseUrl(const InboundRequest& req) {
  if (req.message[http::field::host].empty()) return "https://login.microsoftonline.com";
  return BaseUrl(req);
}

StringResponse FromOidc(const InboundRequest& req, const OidcAnswer& a) {
  StringResponse res{http::status(a.status), req.message.version()};
  for (const auto& [name, value] : a.headers) res.set(name, value);
  if (!a.content_type.empty()) res.set(http::field::content_type, a.content_type);
  res.set(http::field::cache_control, "no-store, no-cache");
  if (a.content_type.starts_with("text/html")) {
    // Pages carry only inline style and the form_post script; nothing may frame them.
    res.set("Content-Security-Policy",
            "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
            "form-action *; frame-ancestors 'none'");
    res.set("X-Content-Type-Options", "nosniff");
  }
  res.body() = a.body;
  res.prepare_payload();
  return res;
}

// client_secret_basic (RFC 6749 §2.3.1): "id:secret", each form-encoded, in base64.
bool MergeBasicCredentials(const InboundRequest& req, std::map<std::string, std::string>& form) {
  std::string_view auth = req.message[http::field::authorization];
  if (auth.size() < 6 || !EqualsIgnoreCase(auth.substr(0, 6), "Basic ")) return true;
  Result<std::string> decoded = Base64Decode(Trim(auth.substr(6)));
  if (!decoded.ok()) return false;
  size_t colon = decoded->find(':');
  if (colon == std::string::npos) return false;
  std::optional<std::string> id = UrlDecode(std::string_view(*decoded).substr(0, colon));
  std::optional<std::string> secret = UrlDecode(std::string_view(*decoded).substr(colon + 1));
  if (!id || !secret) return false;
  auto form_id = form.find("client_id");
  if (form_id != form.end() && form_id->second != *id) return false;
  form["client_id"] = *id;
  form["client_secret"] = *secret;
  return true;
}

StringResponse NotFound(const InboundRequest& req) {
  return JsonAnswer(req, http::status::not_found,
                    {{"error", {{"code", "NotFound"}, {"message", "No route for " + req.path}}}});
}

}  // namespace

SimHandler::SimHandler(Identity& identity, const Clock& clock)
    : owned_model_(std::make_unique<GraphModel>(clock, SimConfig())),
      identity_(identity),
      model_(*owned_model_),
      clock_(clock),
      api_(identity, model_, clock),
      oidc_(identity, model_, clock),
      logs_(identity) {}

SimHandler::SimHandler(Identity& identity, GraphModel& model, const Clock& clock)
    : identity_(identity),
      model_(model),
      clock_(clock),
      api_(identity, model, clock),
      oidc_(identity, model, clock),
      logs_(identity) {}

void SimHandler::Handle(InboundRequest req, Reply reply) {
  if (date_from_clock_) {
    reply = [reply, this](AnyResponse response, std::string_view route) {
      const std::string date = FormatHttpDate(clock_.NowMs() / 1000);
      std::visit([&](auto& r) { r.set(http::field::date, date); }, response);
      reply(std::move(response), route);
    };
  }
  std::string_view path = req.path;
  if (size_t slash = path.find('/', 1); path.size() > 1 && slash != std::string_view::npos) {
    std::string tenant(path.substr(1, slash - 1));
    if (TenantRoute(req, tenant, path.substr(slash), reply)) return;
  }
  for (const char* version : {"v1.0", "beta"}) {
    std::string prefix = std::string("/") + version + "/";
    if (path.starts_with(prefix)) return Graph(req, version, reply);
  }
  if (path.starts_with("/_sim/")) return Admin(req, reply);
  if (path.starts_with("/dataCollectionRules/")) return logs_.Handle(req, reply);
  if (req.path == "/healthz") {
    return reply(JsonAnswer(req, http::status::ok, {{"status", "ok"}}), "/healthz");
  }
  if (req.path == "/devicelogin") return DeviceLogin(req, reply);
  reply(NotFound(req), "(unmatched)");
}

void SimHandler::Graph(const InboundRequest& req, const std::string& version, const Reply& reply) {
  GraphCall call;
  call.method = std::string(req.message.method_string());
  call.version = version;
  call.path = req.path.substr(version.size() + 1);
  call.query = req.query;
  for (const auto& field : req.message) {
    std::string name(field.name_string());
    for (char& c : name) c = char(std::tolower(static_cast<unsigned char>(c)));
    call.headers[name] = std::string(field.value());
  }
  call.body = req.message.body();
  call.base_url = BaseUrl(req);
  GraphAnswer a = api_.Dispatch(call);

  StringResponse res{http::status(a.status), req.message.version()};
  for (const auto& [name, value] : a.headers) res.set(name, value);
  if (a.body) {
    res.set(http::field::content_type, "application/json; charset=utf-8");
    res.body() = JsonText(*a.body);
  }
  res.set(http::field::cache_control, "no-store, no-cache");
  if (!a.fault.empty()) res.set("X-Apm-Sim-Fault", a.fault);
  if (a.drop_connection) res.set(kDropConnectionHeader, "1");
  res.prepare_payload();
  std::string route = a.route.substr(a.route.find(' ') + 1);
  if (a.delay_ms > 0 && req.executor) {
    auto timer = std::make_shared<boost::asio::steady_timer>(req.executor,
                                                             std::chrono::milliseconds(a.delay_ms));
    timer->async_wait([timer, reply, res = std::move(res),
                       route](boost::system::error_code) mutable { reply(std::move(res), route); });
    return;
  }
  reply(std::move(res), route);
}

namespace {

// What /_sim/stats shows.
json StatsJson(const SimStats& s) {
  json body = {{"requests", s.requests},
               {"throttled", s.throttled},
               {"syncRefused", s.sync_refused},
               {"faults",
                {{"status500", s.faults_500},
                 {"status503", s.faults_503},
                 {"dropped", s.dropped},
                 {"lostResponses", s.lost},
                 {"slow", s.slow}}},
               {"importsBySerial", s.imports_by_serial},
               {"autopilotDeletesBySerial", s.autopilot_deletes_by_serial},
               {"managedDeviceDeletesBySerial", s.managed_device_deletes_by_serial},
               {"identityImportsByIdentifier", s.identity_imports_by_identifier}};
  return body;
}

// What /_sim/devices shows: the Autopilot devices and every group's members.
json DevicesJson(GraphModel& model) {
  json devices = json::array();
  for (const AutopilotDeviceView& d : model.Devices()) {
    devices.push_back({{"id", d.id},
                       {"serialNumber", d.serial_number},
                       {"groupTag", d.group_tag},
                       {"azureActiveDirectoryDeviceId", d.azure_ad_device_id},
                       {"entraObjectId", d.entra_object_id},
                       {"deploymentProfileAssignmentStatus", d.profile_status},
                       {"displayName", d.display_name},
                       {"userPrincipalName", d.user_principal_name},
                       {"purchaseOrderIdentifier", d.purchase_order_id},
                       {"managedDeviceId", d.managed_device_id},
                       {"visible", d.visible},
                       {"deleting", d.deleting},
                       {"importCompletedAtMs", d.import_completed_ms},
                       {"syncedAtMs", d.synced_ms},
                       {"profileAssignedAtMs", d.profile_assigned_ms}});
  }
  json groups = json::array();
  for (const json& g : model.ListGroups()) {
    std::string id = g["id"];
    groups.push_back(
        {{"id", id}, {"displayName", g["displayName"]}, {"members", model.GroupMemberIds(id)}});
  }
  json body = {{"autopilotDevices", std::move(devices)},
               {"profileGroupId", model.profile_group_id()},
               {"groups", std::move(groups)}};
  return body;
}

}  // namespace

void SimHandler::Admin(const InboundRequest& req, const Reply& reply) {
  constexpr std::string_view kRoute = "/_sim/*";
  if (!model_.config().admin_enabled) return reply(NotFound(req), "(unmatched)");
  http::verb method = req.message.method();
  if (req.path == "/_sim/stats" && method == http::verb::get) {
    return reply(JsonAnswer(req, http::status::ok, StatsJson(model_.Stats())), kRoute);
  }
  if (req.path == "/_sim/devices" && method == http::verb::get) {
    return reply(JsonAnswer(req, http::status::ok, DevicesJson(model_)), kRoute);
  }
  if (req.path == "/_sim/logs" && method == http::verb::get) {
    return reply(JsonAnswer(req, http::status::ok, logs_.Received()), kRoute);
  }
  if (req.path == "/_sim/logs-faults" && method == http::verb::post) {
    Status set = logs_.SetFaults(json::parse(req.message.body(), nullptr, false));
    return reply(JsonAnswer(req, set.ok() ? http::status::ok : http::status::bad_request,
                            {{"ok", set.ok()}, {"error", set.message()}}),
                 kRoute);
  }
  if (req.path == "/_sim/device-codes" && method == http::verb::get) {
    return reply(JsonAnswer(req, http::status::ok, {{"pending", oidc_.PendingDeviceCodes()}}),
                 kRoute);
  }
  if (req.path == "/_sim/users" && method == http::verb::get) {
    return reply(JsonAnswer(req, http::status::ok, oidc_.UsersJson()), kRoute);
  }
  if (req.path == "/_sim/rotate-signing-key" && method == http::verb::post) {
    std::string kid = oidc_.RotateSigningKey();
    return reply(JsonAnswer(req, http::status::ok,
                            {{"kid", kid}, {"publishedKids", oidc_.signing_keys().Kids()}}),
                 kRoute);
  }
  if (req.path == "/_sim/id-token-fault" && method == http::verb::post) {
    json body = json::parse(req.message.body(), nullptr, false);
    std::string fault = body.is_object() && body.contains("fault") && body["fault"].is_string()
                            ? body["fault"].get<std::string>()
                            : "";
    Status set = oidc_.set_id_token_fault(fault);
    if (!set.ok()) {
      return reply(JsonAnswer(req, http::status::bad_request, {{"error", set.message()}}), kRoute);
    }
    return reply(JsonAnswer(req, http::status::ok, {{"fault", fault}}), kRoute);
  }
  if (req.path == "/_sim/registrations" && method == http::verb::post) {
    Result<RegisteredDeviceSpec> spec =
        RegisteredDeviceFromJson(json::parse(req.message.body(), nullptr, false));
    if (!spec.ok()) {
      return reply(
          JsonAnswer(req, http::status::bad_request,
                     {{"error", {{"code", "BadRequest"}, {"message", spec.status().message()}}}}),
          kRoute);
    }
    const std::string id = model_.AddRegisteredDevice(*spec);
    json body = *model_.GetAutopilotDevice(id, true);
    return reply(JsonAnswer(req, http::status::created, body), kRoute);
  }
  if (req.path == "/_sim/reset" && method == http::verb::post) {
    model_.Reset();
    return reply(JsonAnswer(req, http::status::ok, {{"status", "reset"}}), kRoute);
  }
  if (req.path == "/_sim/config" && method == http::verb::get) {
    return reply(JsonAnswer(req, http::status::ok, ConfigToJson(model_.config())), kRoute);
  }
  if (req.path == "/_sim/config" && method == http::verb::post) {
    json patch = json::parse(req.message.body(), nullptr, false);
    SimConfig config = model_.config();
    if (Status s = ApplyConfigJson(patch, config); !s.ok()) {
      return reply(JsonAnswer(req, http::status::bad_request,
                              {{"error", {{"code", "BadRequest"}, {"message", s.message()}}}}),
                   kRoute);
    }
    model_.SetConfig(config);
    return reply(JsonAnswer(req, http::status::ok, ConfigToJson(config)), kRoute);
  }
  reply(NotFound(req), "(unmatched)");
}

bool SimHandler::TenantRoute(const InboundRequest& req, const std::string& tenant,
                             std::string_view rest, const Reply& reply) {
  http::verb method = req.message.method();
  auto method_not_allowed = [&](const char* route, const char* allowed) {
    reply(JsonAnswer(
              req, http::status::method_not_allowed,
              {{"error", "invalid_request"},
               {"error_description", std::string("This endpoint accepts only ") + allowed + "."}}),
          route);
  };
  if (rest == "/oauth2/v2.0/token") {
    if (method != http::verb::post) {
      method_not_allowed("/{tenant}/oauth2/v2.0/token", "POST");
    } else {
      Token(req, tenant, reply);
    }
    return true;
  }
  if (rest == "/oauth2/v2.0/devicecode") {
    if (method != http::verb::post) {
      method_not_allowed("/{tenant}/oauth2/v2.0/devicecode", "POST");
    } else {
      DeviceCode(req, tenant, reply);
    }
    return true;
  }
  if (rest == "/v2.0/.well-known/openid-configuration") {
    constexpr const char* kRoute = "/{tenant}/v2.0/.well-known/openid-configuration";
    if (method != http::verb::get) {
      method_not_allowed(kRoute, "GET");
    } else {
      reply(FromOidc(req, oidc_.Discovery(tenant, LoginBaseUrl(req))), kRoute);
    }
    return true;
  }
  if (rest == "/discovery/v2.0/keys") {
    constexpr const char* kRoute = "/{tenant}/discovery/v2.0/keys";
    if (method != http::verb::get) {
      method_not_allowed(kRoute, "GET");
    } else {
      reply(FromOidc(req, oidc_.Keys(tenant)), kRoute);
    }
    return true;
  }
  bool authorize = rest == "/oauth2/v2.0/authorize";
  bool logout = rest == "/oauth2/v2.0/logout";
  if (!authorize && !logout) return false;
  const char* route =
      authorize ? "/{tenant}/oauth2/v2.0/authorize" : "/{tenant}/oauth2/v2.0/logout";
  bool is_post = method == http::verb::post;
  if (method != http::verb::get && !(is_post && authorize)) {
    method_not_allowed(route, authorize ? "GET and POST" : "GET");
    return true;
  }
  // Query parameters for GET; the picker's form posts its fields in the body.
  std::optional<std::map<std::string, std::string>> params =
      ParseForm(is_post ? std::string_view(req.message.body()) : std::string_view(req.query));
  if (!params) {
    reply(JsonAnswer(req, http::status::bad_request,
                     {{"error", "invalid_request"},
                      {"error_description",
                       "AADSTS9002313: Invalid request. Request is "
                       "malformed or invalid."}}),
          route);
    return true;
  }
  OidcAnswer a = authorize ? oidc_.Authorize(is_post, tenant, req.path, *params)
                           : oidc_.Logout(tenant, *params);
  reply(FromOidc(req, a), route);
  return true;
}

namespace {

// The multi-tenant names a public client may sign in under (the user's home tenant decides).
bool IsOrganizations(const std::string& tenant) {
  return tenant == "organizations" || tenant == "common";
}

constexpr const char* kDeviceCodeGrant = "urn:ietf:params:oauth:grant-type:device_code";

}  // namespace

void SimHandler::DeviceCode(const InboundRequest& req, const std::string& tenant,
                            const Reply& reply) {
  constexpr std::string_view kRoute = "/{tenant}/oauth2/v2.0/devicecode";
  if (!identity_.IsTenant(tenant) && !IsOrganizations(tenant)) {
    TokenError e{400, "invalid_request", 90002, "AADSTS90002: Tenant '" + tenant + "' not found."};
    return reply(JsonAnswer(req, http::status::bad_request, OAuthError(e, clock_.NowMs())), kRoute);
  }
  std::optional<std::map<std::string, std::string>> form = ParseForm(req.message.body());
  if (!form) {
    TokenError e{400, "invalid_request", 900144, "AADSTS900144: The request body is malformed."};
    return reply(JsonAnswer(req, http::status::bad_request, OAuthError(e, clock_.NowMs())), kRoute);
  }
  auto started = oidc_.StartDeviceCode(*form, LoginBaseUrl(req));
  if (const TokenError* e = std::get_if<TokenError>(&started)) {
    return reply(JsonAnswer(req, http::status(e->http_status), OAuthError(*e, clock_.NowMs())),
                 kRoute);
  }
  reply(JsonAnswer(req, http::status::ok, std::get<json>(started)), kRoute);
}

void SimHandler::DeviceLogin(const InboundRequest& req, const Reply& reply) {
  constexpr std::string_view kRoute = "/devicelogin";
  const bool is_post = req.message.method() == http::verb::post;
  if (!is_post && req.message.method() != http::verb::get) {
    return reply(JsonAnswer(req, http::status::method_not_allowed,
                            {{"error", "invalid_request"},
                             {"error_description", "This page accepts only GET and POST."}}),
                 kRoute);
  }
  std::optional<std::map<std::string, std::string>> params =
      ParseForm(is_post ? std::string_view(req.message.body()) : std::string_view(req.query));
  if (!params) params.emplace();
  reply(FromOidc(req, oidc_.DeviceLogin(is_post, *params)), kRoute);
}

void SimHandler::Token(const InboundRequest& req, const std::string& tenant, const Reply& reply) {
  constexpr std::string_view kRoute = "/{tenant}/oauth2/v2.0/token";
  if (!identity_.IsTenant(tenant) && !IsOrganizations(tenant)) {
    TokenError e{400, "invalid_request", 90002,
                 "AADSTS90002: Tenant '" + tenant +
                     "' not found. Check to make sure you have "
                     "the correct tenant ID and are signing into the correct cloud."};
    return reply(JsonAnswer(req, http::status::bad_request, OAuthError(e, clock_.NowMs())), kRoute);
  }
  std::optional<std::map<std::string, std::string>> form = ParseForm(req.message.body());
  if (form && !MergeBasicCredentials(req, *form)) {
    TokenError e{401, "invalid_client", 7000215,
                 "AADSTS7000215: Invalid client secret provided. The Authorization header does "
                 "not hold client_id:client_secret for this client."};
    return reply(JsonAnswer(req, http::status::unauthorized, OAuthError(e, clock_.NowMs())),
                 kRoute);
  }
  if (!form) {
    TokenError e{400, "invalid_request", 900144, "AADSTS900144: The request body is malformed."};
    return reply(JsonAnswer(req, http::status::bad_request, OAuthError(e, clock_.NowMs())), kRoute);
  }
  std::string called_url = BaseUrl(req) + req.path;
  if (auto grant = form->find("grant_type");
      grant != form->end() && grant->second == "authorization_code") {
    auto redeemed = oidc_.RedeemCode(*form, called_url, LoginBaseUrl(req));
    if (const TokenError* e = std::get_if<TokenError>(&redeemed)) {
      return reply(JsonAnswer(req, http::status(e->http_status), OAuthError(*e, clock_.NowMs())),
                   kRoute);
    }
    return reply(JsonAnswer(req, http::status::ok, std::get<json>(redeemed)), kRoute);
  }
  if (auto grant = form->find("grant_type");
      grant != form->end() && grant->second == kDeviceCodeGrant) {
    auto redeemed = oidc_.RedeemDeviceCode(*form, LoginBaseUrl(req));
    if (const TokenError* e = std::get_if<TokenError>(&redeemed)) {
      return reply(JsonAnswer(req, http::status(e->http_status), OAuthError(*e, clock_.NowMs())),
                   kRoute);
    }
    return reply(JsonAnswer(req, http::status::ok, std::get<json>(redeemed)), kRoute);
  }
  if (IsOrganizations(tenant)) {
    TokenError e{400, "invalid_request", 90002,
                 "AADSTS90002: Tenant '" + tenant +
                     "' not found. An app-only token needs the "
                     "tenant's id or domain."};
    return reply(JsonAnswer(req, http::status::bad_request, OAuthError(e, clock_.NowMs())), kRoute);
  }
  auto result = identity_.ClientCredentials(*form, called_url);
  if (const TokenError* e = std::get_if<TokenError>(&result)) {
    return reply(JsonAnswer(req, http::status(e->http_status), OAuthError(*e, clock_.NowMs())),
                 kRoute);
  }
  const IssuedToken& t = std::get<IssuedToken>(result);
  reply(JsonAnswer(req, http::status::ok,
                   {{"token_type", "Bearer"},
                    {"expires_in", t.expires_in},
                    {"ext_expires_in", t.expires_in},
                    {"access_token", t.access_token}}),
        kRoute);
}

}  // namespace apm::sim
