#include "tenantsim/graph_router.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "core/base64.h"
#include "core/text.h"
#include "server/http/form.h"
#include "server/http/route_table.h"
#include "server/json_text.h"
#include "server/logging.h"
#include "tenantsim/graph_query.h"
#include "tenantsim/lenient_json.h"

namespace apm::sim {

using json = nlohmann::json;

// kSelfRead: /me routes, for delegated (user) tokens only.
enum class Access {
  kIntuneRead,
  kIntuneWrite,
  kManagedRead,  // Intune managed devices
  kManagedWrite,
  kDeviceRead,
  kGroupRead,
  kGroupWrite,
  kUserRead,
  kSelfRead,
  kApplicationRead,
  kApplicationWrite,
  kAppRoleWrite,  // the handler also gets the signed-in user (admin roles decide)
  kGroupCreate
};

struct GraphRouter::Route {
  const char* method;
  const char* pattern;  // after the version; "{id}" matches one segment
  Access access;
  bool intune;     // deviceManagement: Intune's nested error form
  bool beta_only;  // absent from the v1.0 schema
  GraphAnswer (GraphRouter::*fn)(const GraphCall&, const Params&);
};

namespace {

bool Allowed(const SimApp& app, Access access) {
  static const std::map<Access, std::vector<std::string>> kRoles = {
      {Access::kIntuneRead,
       {"DeviceManagementServiceConfig.ReadWrite.All", "DeviceManagementServiceConfig.Read.All"}},
      {Access::kIntuneWrite, {"DeviceManagementServiceConfig.ReadWrite.All"}},
      {Access::kManagedRead,
       {"DeviceManagementManagedDevices.ReadWrite.All", "DeviceManagementManagedDevices.Read.All"}},
      {Access::kManagedWrite, {"DeviceManagementManagedDevices.ReadWrite.All"}},
      {Access::kDeviceRead,
       {"Device.Read.All", "Device.ReadWrite.All", "Directory.Read.All",
        "Directory.ReadWrite.All"}},
      {Access::kGroupRead,
       {"GroupMember.Read.All", "GroupMember.ReadWrite.All", "Group.Read.All",
        "Group.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}},
      {Access::kGroupWrite,
       {"GroupMember.ReadWrite.All", "Group.ReadWrite.All", "Directory.ReadWrite.All"}},
      {Access::kUserRead,
       {"User.Read.All", "User.ReadWrite.All", "GroupMember.Read.All", "GroupMember.ReadWrite.All",
        "Directory.Read.All", "Directory.ReadWrite.All"}},
      {Access::kApplicationRead,
       {"Application.Read.All", "Application.ReadWrite.All", "Directory.Read.All",
        "Directory.ReadWrite.All"}},
      {Access::kApplicationWrite, {"Application.ReadWrite.All"}},
      {Access::kAppRoleWrite, {"AppRoleAssignment.ReadWrite.All"}},
      {Access::kGroupCreate, {"Group.Create", "Group.ReadWrite.All", "Directory.ReadWrite.All"}},
      {Access::kSelfRead,
       {"User.Read", "User.ReadWrite", "User.ReadBasic.All", "User.Read.All", "User.ReadWrite.All",
        "GroupMember.Read.All", "Directory.Read.All", "Directory.ReadWrite.All"}},
  };
  for (const std::string& role : kRoles.at(access)) {
    if (std::find(app.roles.begin(), app.roles.end(), role) != app.roles.end()) return true;
  }
  return false;
}

bool Match(std::string_view pattern, const std::vector<std::string>& segs,
           std::vector<std::string>* params) {
  std::vector<std::string_view> pat = Segments(pattern);
  if (pat.size() != segs.size()) return false;
  std::vector<std::string> found;
  for (size_t i = 0; i < pat.size(); ++i) {
    if (pat[i] == "{id}") {
      if (segs[i].empty()) return false;
      found.push_back(segs[i]);
    } else if (!EqualsIgnoreCase(pat[i], segs[i])) {
      // OData segment names are case-insensitive (scripts call UpdateDeviceProperties).
      return false;
    }
  }
  *params = std::move(found);
  return true;
}

bool IsWrite(const std::string& method) {
  return method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE";
}

}  // namespace

GraphRouter::GraphRouter(Identity& identity, GraphModel& model, const Clock& clock)
    : identity_(identity), model_(model), clock_(clock) {}

const std::vector<GraphRouter::Route>& GraphRouter::Routes() {
  using A = Access;
  using G = GraphRouter;
  static const std::vector<Route> kRoutes = {
      {"POST", "/deviceManagement/importedWindowsAutopilotDeviceIdentities/import", A::kIntuneWrite,
       true, false, &G::ImportBatch},
      {"POST", kImports, A::kIntuneWrite, true, false, &G::CreateImport},
      {"GET", kImports, A::kIntuneRead, true, false, &G::ListImports},
      {"GET", "/deviceManagement/importedWindowsAutopilotDeviceIdentities/{id}", A::kIntuneRead,
       true, false, &G::GetImport},
      {"DELETE", "/deviceManagement/importedWindowsAutopilotDeviceIdentities/{id}", A::kIntuneWrite,
       true, false, &G::DeleteImport},
      {"GET", "/deviceManagement/windowsAutopilotDeviceIdentities", A::kIntuneRead, true, false,
       &G::ListAutopilot},
      {"GET", "/deviceManagement/windowsAutopilotDeviceIdentities/{id}", A::kIntuneRead, true,
       false, &G::GetAutopilot},
      {"DELETE", "/deviceManagement/windowsAutopilotDeviceIdentities/{id}", A::kIntuneWrite, true,
       false, &G::DeleteAutopilot},
      {"POST", "/deviceManagement/windowsAutopilotDeviceIdentities/{id}/assignUserToDevice",
       A::kIntuneWrite, true, false, &G::AssignUser},
      {"POST", "/deviceManagement/windowsAutopilotDeviceIdentities/{id}/unassignUserFromDevice",
       A::kIntuneWrite, true, false, &G::UnassignUser},
      {"POST", "/deviceManagement/windowsAutopilotDeviceIdentities/{id}/updateDeviceProperties",
       A::kIntuneWrite, true, false, &G::UpdateProperties},
      {"POST", "/deviceManagement/importedDeviceIdentities/searchExistingIdentities",
       A::kIntuneRead, true, true, &G::SearchIdentities},
      {"POST", "/deviceManagement/importedDeviceIdentities/importDeviceIdentityList",
       A::kIntuneWrite, true, true, &G::ImportIdentityList},
      {"POST",
       "/deviceManagement/importedDeviceIdentities/microsoft.graph.importDeviceIdentityList",
       A::kIntuneWrite, true, true, &G::ImportIdentityList},
      {"GET", "/deviceManagement/importedDeviceIdentities", A::kIntuneRead, true, true,
       &G::ListIdentities},
      {"GET", "/deviceManagement/importedDeviceIdentities/{id}", A::kIntuneRead, true, true,
       &G::GetIdentity},
      {"DELETE", "/deviceManagement/importedDeviceIdentities/{id}", A::kIntuneWrite, true, true,
       &G::DeleteIdentity},
      {"GET", "/deviceManagement/managedDevices", A::kManagedRead, true, false, &G::ListManaged},
      {"GET", "/deviceManagement/managedDevices/{id}", A::kManagedRead, true, false,
       &G::GetManaged},
      {"DELETE", "/deviceManagement/managedDevices/{id}", A::kManagedWrite, true, false,
       &G::DeleteManaged},
      {"POST", "/deviceManagement/windowsAutopilotSettings/sync", A::kIntuneWrite, true, true,
       &G::Sync},
      {"GET", "/deviceManagement/windowsAutopilotSettings", A::kIntuneRead, true, true,
       &G::GetSettings},
      {"GET", "/deviceManagement/windowsAutopilotDeploymentProfiles", A::kIntuneRead, true, true,
       &G::ListDeploymentProfiles},
      {"GET", "/devices", A::kDeviceRead, false, false, &G::ListDevices},
      {"GET", "/devices/{id}", A::kDeviceRead, false, false, &G::GetDevice},
      {"GET", "/groups", A::kGroupRead, false, false, &G::ListGroups},
      {"GET", "/applications", A::kApplicationRead, false, false, &G::ListApplications},
      {"POST", "/applications", A::kApplicationWrite, false, false, &G::CreateApplication},
      {"GET", "/applications/{id}", A::kApplicationRead, false, false, &G::GetApplication},
      {"PATCH", "/applications/{id}", A::kApplicationWrite, false, false, &G::PatchApplication},
      {"POST", "/applications/{id}/addPassword", A::kApplicationWrite, false, false,
       &G::AddApplicationPassword},
      {"GET", "/servicePrincipals", A::kApplicationRead, false, false, &G::ListServicePrincipals},
      {"POST", "/servicePrincipals", A::kApplicationWrite, false, false,
       &G::CreateServicePrincipal},
      {"GET", "/servicePrincipals/{id}/appRoleAssignments", A::kApplicationRead, false, false,
       &G::ListAppRoleAssignments},
      {"GET", "/servicePrincipals/{id}/appRoleAssignedTo", A::kApplicationRead, false, false,
       &G::ListAppRoleAssignedTo},
      {"POST", "/servicePrincipals/{id}/appRoleAssignedTo", A::kAppRoleWrite, false, false,
       &G::AddAppRoleAssignedTo},
      {"POST", "/groups", A::kGroupCreate, false, false, &G::CreateGroup},
      {"GET", "/me/memberOf", A::kSelfRead, false, false, &G::MyMemberOf},
      {"GET", "/me/transitiveMemberOf", A::kSelfRead, false, false, &G::MyMemberOf},
      {"POST", "/deviceManagement/windowsAutopilotDeploymentProfiles", A::kIntuneWrite, true, true,
       &G::CreateDeploymentProfile},
      {"GET", "/deviceManagement/windowsAutopilotDeploymentProfiles/{id}/assignments",
       A::kIntuneRead, true, true, &G::ListProfileAssignments},
      {"POST", "/deviceManagement/windowsAutopilotDeploymentProfiles/{id}/assignments",
       A::kIntuneWrite, true, true, &G::AssignDeploymentProfile},
      {"GET", "/groups/{id}", A::kGroupRead, false, false, &G::GetGroup},
      {"PATCH", "/groups/{id}", A::kGroupWrite, false, false, &G::PatchGroup},
      {"GET", "/groups/{id}/members", A::kGroupRead, false, false, &G::ListMembers},
      {"POST", "/groups/{id}/members/$ref", A::kGroupWrite, false, false, &G::AddMemberRef},
      {"DELETE", "/groups/{id}/members/{id}/$ref", A::kGroupWrite, false, false,
       &G::RemoveMemberRef},
      {"POST", "/users/{id}/getMemberObjects", A::kUserRead, false, false, &G::MemberObjects},
      {"POST", "/me/getMemberObjects", A::kSelfRead, false, false, &G::MemberObjects},
  };
  return kRoutes;
}

GraphRouter::Lookup GraphRouter::FindRoute(const GraphCall& call) {
  Lookup l;
  bool path_ok = true;
  for (std::string_view s : Segments(call.path)) {
    std::optional<std::string> d = PercentDecode(s);
    if (!d) path_ok = false;
    l.segments.push_back(d.value_or(""));
  }
  l.is_batch = path_ok && l.segments.size() == 1 && l.segments[0] == "$batch";
  for (const Route& r : Routes()) {
    if (!path_ok || (r.beta_only && call.version != "beta")) continue;
    Params p;
    if (!Match(r.pattern, l.segments, &p)) continue;
    l.path_known = true;
    if (call.method == r.method) {
      l.route = &r;
      l.params = std::move(p);
      break;
    }
  }
  return l;
}

std::optional<GraphAnswer> GraphRouter::Authenticate(const GraphCall& call, SimApp* app,
                                                     std::string* user_id) {
  if (call.app) {  // a $batch sub-request: its batch was authenticated
    *app = *call.app;
    *user_id = call.user_id;
    return std::nullopt;
  }
  auto auth = call.headers.find("authorization");
  std::string token;
  if (auth != call.headers.end() && auth->second.size() > 7 &&
      EqualsIgnoreCase(std::string_view(auth->second).substr(0, 7), "Bearer ")) {
    token = Trim(std::string_view(auth->second).substr(7));
  }
  std::optional<Caller> found = token.empty() ? std::nullopt : identity_.AuthenticateCaller(token);
  if (!found) {
    GraphAnswer a = GraphError(
        call, 401, "InvalidAuthenticationToken",
        token.empty() ? "Access token is empty." : "Access token has expired or is not yet valid.");
    a.headers.emplace_back("WWW-Authenticate",
                           "Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline."
                           "com/common/oauth2/authorize\"");
    return a;
  }
  *app = std::move(found->app);
  *user_id = std::move(found->user_id);
  return std::nullopt;
}

GraphAnswer GraphRouter::WithRequestIds(const GraphCall& call, GraphAnswer a,
                                        const std::string& key) {
  a.route = key;
  bool has_request_id = false, has_client_id = false;
  for (auto& [name, value] : a.headers) {
    has_request_id = has_request_id || name == "request-id";
    has_client_id = has_client_id || name == "client-request-id";
  }
  if (!has_request_id) a.headers.emplace_back("request-id", model_.NewGuid());
  if (!has_client_id) {
    auto c = call.headers.find("client-request-id");
    a.headers.emplace_back("client-request-id",
                           c != call.headers.end() ? c->second : model_.NewGuid());
  }
  return a;
}

GraphAnswer GraphRouter::Dispatch(const GraphCall& call) {
  Lookup l = FindRoute(call);
  std::string key = call.method + " /" + call.version +
                    (l.is_batch ? std::string("/$batch")
                     : l.route  ? l.route->pattern
                                : " (unmatched)");
  model_.CountRequest(key);
  return WithRequestIds(call, Answer(call, l), key);
}

GraphAnswer GraphRouter::Answer(const GraphCall& call, Lookup& l) {
  SimApp app;
  std::string user_id;
  if (std::optional<GraphAnswer> refused = Authenticate(call, &app, &user_id)) return *refused;
  if (l.is_batch) {
    if (call.method != "POST") {
      return GraphError(call, 405, "MethodNotAllowed", "$batch accepts only POST.");
    }
    if (call.app)
      return GraphError(call, 400, "BadRequest", "Nested batch requests are not allowed.");
    return Batch(call, app, user_id);
  }
  if (!l.route) {
    if (l.path_known) {
      return GraphError(
          call, 405, "MethodNotAllowed",
          "The HTTP method '" + call.method + "' is not allowed for the requested resource.");
    }
    const std::vector<std::string>& segs = l.segments;
    std::string segment = segs.size() > 1 ? segs[1] : segs.empty() ? "" : segs[0];
    return GraphError(call, 400, "BadRequest",
                      "Resource not found for the segment '" + segment + "'.");
  }
  const Route& route = *l.route;
  if (route.access == Access::kSelfRead) {
    if (user_id.empty()) {
      return GraphError(call, 400, "BadRequest",
                        "/me request is only valid with delegated authentication flow.");
    }
    l.params = {user_id};  // the handlers serve /me as /users/{signed-in user}
  }
  if (route.access == Access::kAppRoleWrite) l.params.push_back(user_id);
  if (!Allowed(app, route.access)) {
    std::string text = "Insufficient privileges to complete the operation.";
    return route.intune ? IntuneError(call, 403, "Authorization_RequestDenied", text)
                        : GraphError(call, 403, "Authorization_RequestDenied", text);
  }
  if (std::optional<int> wait =
          model_.Throttle(app.client_id, route.intune, IsWrite(call.method))) {
    std::string text = "Too many requests; retry after " + std::to_string(*wait) + " seconds.";
    // One line per refusal, sub-requests included: whoever overran the window can be found.
    LogWarn("throttled", {{"method", call.method},
                          {"route", route.pattern},
                          {"client", app.client_id},
                          {"window", route.intune ? "intune" : "directory"},
                          {"in_batch", call.app.has_value()},
                          {"retry_after_s", *wait}});
    return route.intune ? IntuneError(call, 429, "TooManyRequests", text, *wait)
                        : GraphError(call, 429, "TooManyRequests", text, *wait);
  }
  return RunWithFaults(call, route, l.params);
}

GraphAnswer GraphRouter::RunWithFaults(const GraphCall& call, const Route& route,
                                       const Params& params) {
  bool top_level = !call.app.has_value();
  FaultDecision fault = model_.DrawFault(top_level);
  GraphAnswer answer;
  switch (fault.fault) {
    case Fault::kDropBeforeEffect:
      answer.status = 503;
      answer.drop_connection = true;
      answer.fault = "dropped";
      break;
    case Fault::kStatus500:
    case Fault::kStatus503: {
      bool is500 = fault.fault == Fault::kStatus500;
      int status = is500 ? 500 : 503;
      const char* code = is500 ? "InternalServerError" : "ServiceUnavailable";
      std::string text = "The service encountered an error (simulated fault).";
      answer = route.intune ? IntuneError(call, status, code, text)
                            : GraphError(call, status, code, text);
      answer.fault = is500 ? "status-500" : "status-503";
      break;
    }
    case Fault::kLostResponse:
    case Fault::kNone:
      answer = (this->*route.fn)(call, params);
      if (fault.fault == Fault::kLostResponse) {
        answer.drop_connection = true;
        answer.fault = "lost-response";
      }
      break;
  }
  if (top_level) answer.delay_ms = fault.delay_ms;
  return answer;
}

// ---------------------------------------------------------------------------------------------
// Answers

GraphAnswer GraphRouter::Json(const GraphCall&, int status, json body) {
  GraphAnswer a;
  a.status = status;
  a.body = std::move(body);
  return a;
}

GraphAnswer GraphRouter::ResourceNotFound(const GraphCall& call, const std::string& id) {
  return GraphError(call, 404, "Request_ResourceNotFound",
                    "Resource '" + id +
                        "' does not exist or one of its queried reference-property objects are "
                        "not present.");
}

GraphAnswer GraphRouter::NoContent(const GraphCall&) {
  GraphAnswer a;
  a.status = 204;
  return a;
}

GraphAnswer GraphRouter::GraphError(const GraphCall& call, int status, const std::string& code,
                                    const std::string& message, int retry_after) {
  std::string request_id = model_.NewGuid();
  auto c = call.headers.find("client-request-id");
  std::string client_request_id = c != call.headers.end() ? c->second : request_id;
  GraphAnswer a;
  a.status = status;
  a.body = json{{"error",
                 {{"code", code},
                  {"message", message},
                  {"innerError",
                   {{"date", FormatTimestamp(clock_.NowMs()).substr(0, 19)},
                    {"request-id", request_id},
                    {"client-request-id", client_request_id}}}}}};
  a.headers.emplace_back("request-id", request_id);
  a.headers.emplace_back("client-request-id", client_request_id);
  if (retry_after >= 0) a.headers.emplace_back("Retry-After", std::to_string(retry_after));
  return a;
}

GraphAnswer GraphRouter::IntuneError(const GraphCall& call, int status, const std::string& code,
                                     const std::string& message, int retry_after) {
  // Intune's own error travels as JSON text, with CRLFs, inside Graph's message (§3).
  std::string activity = model_.NewGuid();
  std::string full = message +
                     " - Operation ID (for customer support): 00000000-0000-0000-0000-000000000000 "
                     "- Activity ID: " +
                     activity +
                     " - Url: https://fef.msub01.manage.microsoft.com/"
                     "StatelessDeviceEnrollmentFEService" +
                     call.path;
  std::string headers =
      retry_after >= 0 ? "{\"Retry-After\":\"" + std::to_string(retry_after) + "\"}" : "{}";
  std::string nested =
      "{\r\n  \"_version\": 3,\r\n  \"Message\": " + JsonText(json(full)) +
      ",\r\n  \"CustomApiErrorPhrase\": \"\",\r\n  \"RetryAfter\": " +
      (retry_after >= 0 ? std::to_string(retry_after) : std::string("null")) +
      ",\r\n  \"ErrorSourceService\": \"\",\r\n  \"HttpHeaders\": " + JsonText(json(headers)) +
      "\r\n}";
  return GraphError(call, status, code, nested, retry_after);
}

GraphAnswer GraphRouter::Collection(const GraphCall& call, std::vector<json> items,
                                    const std::string& context, bool intune, bool allow_contains,
                                    bool allow_eq, const std::vector<std::string>& filter_fields) {
  auto bad = [&](const std::string& code, const std::string& text) {
    return intune ? IntuneError(call, 400, code, text) : GraphError(call, 400, code, text);
  };
  std::optional<std::map<std::string, std::string>> query = ParseForm(call.query);
  if (!query) return bad("BadRequest", "The query string is malformed.");
  auto param = [&](const char* name) -> const std::string* {
    auto it = query->find(name);
    return it == query->end() ? nullptr : &it->second;
  };
  if (const std::string* text = param("$filter")) {
    std::optional<Filter> f = ParseFilter(*text);
    if (!f) return bad("BadRequest", "Invalid filter clause: '" + *text + "'.");
    bool field_ok = filter_fields.empty() ||
                    std::any_of(filter_fields.begin(), filter_fields.end(),
                                [&](const std::string& allowed) { return allowed == f->field; });
    if (!field_ok || (f->contains && !allow_contains) || (!f->contains && !allow_eq)) {
      return intune ? bad("BadRequest",
                          "An error has occurred: the filter '" + *text + "' is not supported.")
                    : bad("Request_UnsupportedQuery",
                          "Unsupported or invalid query filter clause specified for property '" +
                              f->field + "'.");
    }
    std::erase_if(items, [&](const json& item) { return !FilterMatches(*f, item); });
  }
  size_t page = model_.config().page_size;
  if (const std::string* top = param("$top")) {
    if (top->empty() || top->size() > 9 ||
        top->find_first_not_of("0123456789") != std::string::npos || std::stoi(*top) == 0) {
      return bad("BadRequest", "Invalid value '" + *top + "' for $top.");
    }
    page = std::min(page, size_t(std::stoi(*top)));
  }
  if (const std::string* after = param("$skiptoken")) {
    // Keyset paging by id: stable while records come and go between pages.
    std::erase_if(items, [&](const json& item) { return item["id"].get<std::string>() <= *after; });
  }
  json body = {{"@odata.context", kMetadata + call.version + "/$metadata#" + context}};
  json values = json::array();
  for (size_t i = 0; i < items.size() && i < page; ++i) values.push_back(std::move(items[i]));
  if (items.size() > page) {
    std::string next = call.base_url + "/" + call.version + call.path + "?";
    std::string_view rest = call.query;
    while (!rest.empty()) {
      size_t amp = rest.find('&');
      std::string_view pair = rest.substr(0, amp);
      std::optional<std::string> name = UrlDecode(pair.substr(0, pair.find('=')));
      if (!pair.empty() && name && *name != "$skiptoken") {
        next.append(pair);
        next.push_back('&');
      }
      if (amp == std::string_view::npos) break;
      rest.remove_prefix(amp + 1);
    }
    next += "$skiptoken=" + values.back()["id"].get<std::string>();
    body["@odata.nextLink"] = next;
  }
  body["value"] = std::move(values);
  return Json(call, 200, std::move(body));
}

}  // namespace apm::sim
