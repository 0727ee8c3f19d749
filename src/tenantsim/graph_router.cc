#include "tenantsim/graph_router.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "core/base64.h"
#include "core/text.h"
#include "server/http/form.h"
#include "server/json_text.h"
#include "tenantsim/lenient_json.h"

namespace apm::sim {

using json = nlohmann::json;

// kSelfRead: /me routes, for delegated (user) tokens only.
enum class Access {
  kIntuneRead,
  kIntuneWrite,
  kDeviceRead,
  kGroupRead,
  kGroupWrite,
  kUserRead,
  kSelfRead
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

constexpr size_t kMaxBatchRequests = 20;
constexpr size_t kMaxMembersPerPatch = 20;
constexpr const char* kImports = "/deviceManagement/importedWindowsAutopilotDeviceIdentities";
constexpr const char* kMetadata = "https://graph.microsoft.com/";

bool Allowed(const SimApp& app, Access access) {
  static const std::map<Access, std::vector<std::string>> kRoles = {
      {Access::kIntuneRead,
       {"DeviceManagementServiceConfig.ReadWrite.All", "DeviceManagementServiceConfig.Read.All"}},
      {Access::kIntuneWrite, {"DeviceManagementServiceConfig.ReadWrite.All"}},
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
      {Access::kSelfRead,
       {"User.Read", "User.ReadWrite", "User.ReadBasic.All", "User.Read.All", "User.ReadWrite.All",
        "GroupMember.Read.All", "Directory.Read.All", "Directory.ReadWrite.All"}},
  };
  for (const std::string& role : kRoles.at(access)) {
    if (std::find(app.roles.begin(), app.roles.end(), role) != app.roles.end()) return true;
  }
  return false;
}

// %XX only: '+' is literal in a path.
std::optional<std::string> PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size() || !std::isxdigit(static_cast<unsigned char>(s[i + 1])) ||
        !std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      return std::nullopt;
    }
    out.push_back(char(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
    i += 2;
  }
  return out;
}

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> out;
  while (!path.empty()) {
    if (path.front() == '/') {
      path.remove_prefix(1);
      continue;
    }
    size_t slash = path.find('/');
    out.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash);
  }
  return out;
}

bool Match(std::string_view pattern, const std::vector<std::string>& segs,
           std::vector<std::string>* params) {
  std::vector<std::string_view> pat = SplitPath(pattern);
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

// A string member, "" for a missing or null one; false in *ok for another type.
std::string StringField(const json& j, const char* name, bool* ok) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return "";
  if (!it->is_string()) {
    *ok = false;
    return "";
  }
  return it->get<std::string>();
}

struct Filter {
  bool contains = false;
  std::string field;
  std::string value;
};

// contains(field,'value') or field eq 'value'; '' escapes a quote inside the literal.
std::optional<Filter> ParseFilter(std::string_view text) {
  std::string t = Trim(text);
  std::string_view s = t;
  auto skip_ws = [&] {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  };
  auto ident = [&] {
    std::string out;
    while (!s.empty() && (std::isalnum(static_cast<unsigned char>(s.front())) || s.front() == '_' ||
                          s.front() == '/')) {
      out.push_back(s.front());
      s.remove_prefix(1);
    }
    return out;
  };
  auto literal = [&]() -> std::optional<std::string> {
    if (s.empty() || s.front() != '\'') return std::nullopt;
    s.remove_prefix(1);
    std::string out;
    while (!s.empty()) {
      if (s.front() == '\'') {
        if (s.size() > 1 && s[1] == '\'') {
          out.push_back('\'');
          s.remove_prefix(2);
          continue;
        }
        s.remove_prefix(1);
        return out;
      }
      out.push_back(s.front());
      s.remove_prefix(1);
    }
    return std::nullopt;
  };
  Filter f;
  std::string first = ident();
  skip_ws();
  if (EqualsIgnoreCase(first, "contains") && !s.empty() && s.front() == '(') {
    s.remove_prefix(1);
    skip_ws();
    f.contains = true;
    f.field = ident();
    skip_ws();
    if (f.field.empty() || s.empty() || s.front() != ',') return std::nullopt;
    s.remove_prefix(1);
    skip_ws();
    std::optional<std::string> v = literal();
    skip_ws();
    if (!v || s.empty() || s.front() != ')') return std::nullopt;
    s.remove_prefix(1);
    f.value = *v;
  } else {
    f.field = first;
    std::string op = ident();
    skip_ws();
    std::optional<std::string> v = literal();
    if (f.field.empty() || !EqualsIgnoreCase(op, "eq") || !v) return std::nullopt;
    f.value = *v;
  }
  skip_ws();
  if (!s.empty()) return std::nullopt;
  return f;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool FilterMatches(const Filter& f, const json& item) {
  auto it = item.find(f.field);
  if (it == item.end() || !it->is_string()) return false;
  const std::string& v = it->get_ref<const std::string&>();
  if (f.contains) return Lower(v).find(Lower(f.value)) != std::string::npos;
  return EqualsIgnoreCase(v, f.value);
}

// The object id at the end of an @odata.id URL (…/directoryObjects/{id}).
std::optional<std::string> ObjectIdFromUrl(const std::string& url) {
  size_t q = url.find('?');
  std::string_view path = std::string_view(url).substr(0, q);
  std::vector<std::string_view> segs = SplitPath(path);
  if (segs.size() < 2 || !url.starts_with("http")) return std::nullopt;
  std::string_view kind = segs[segs.size() - 2];
  if (!EqualsIgnoreCase(kind, "directoryObjects") && !EqualsIgnoreCase(kind, "devices") &&
      !EqualsIgnoreCase(kind, "users") && !EqualsIgnoreCase(kind, "groups")) {
    return std::nullopt;
  }
  return std::string(segs.back());
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
      {"POST", "/deviceManagement/windowsAutopilotSettings/sync", A::kIntuneWrite, true, true,
       &G::Sync},
      {"GET", "/deviceManagement/windowsAutopilotSettings", A::kIntuneRead, true, true,
       &G::GetSettings},
      {"GET", "/devices", A::kDeviceRead, false, false, &G::ListDevices},
      {"GET", "/devices/{id}", A::kDeviceRead, false, false, &G::GetDevice},
      {"GET", "/groups", A::kGroupRead, false, false, &G::ListGroups},
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

GraphAnswer GraphRouter::Dispatch(const GraphCall& call) {
  std::vector<std::string> segs;
  bool path_ok = true;
  for (std::string_view s : SplitPath(call.path)) {
    std::optional<std::string> d = PercentDecode(s);
    if (!d) path_ok = false;
    segs.push_back(d.value_or(""));
  }
  bool is_batch = path_ok && segs.size() == 1 && segs[0] == "$batch";
  const Route* route = nullptr;
  Params params;
  bool path_known = false;
  for (const Route& r : Routes()) {
    if (!path_ok || (r.beta_only && call.version != "beta")) continue;
    Params p;
    if (!Match(r.pattern, segs, &p)) continue;
    path_known = true;
    if (call.method == r.method) {
      route = &r;
      params = std::move(p);
      break;
    }
  }
  std::string key = call.method + " /" + call.version +
                    (is_batch ? std::string("/$batch")
                     : route  ? route->pattern
                              : " (unmatched)");
  model_.CountRequest(key);

  auto finish = [&](GraphAnswer a) {
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
  };

  SimApp app;
  std::string user_id;
  if (call.app) {
    app = *call.app;
    user_id = call.user_id;
  } else {
    auto auth = call.headers.find("authorization");
    std::string token;
    if (auth != call.headers.end() && auth->second.size() > 7 &&
        EqualsIgnoreCase(std::string_view(auth->second).substr(0, 7), "Bearer ")) {
      token = Trim(std::string_view(auth->second).substr(7));
    }
    std::optional<Caller> found =
        token.empty() ? std::nullopt : identity_.AuthenticateCaller(token);
    if (!found) {
      GraphAnswer a = GraphError(call, 401, "InvalidAuthenticationToken",
                                 token.empty() ? "Access token is empty."
                                               : "Access token has expired or is not yet valid.");
      a.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"\", authorization_uri=\"" +
                                                     std::string("https://login.microsoftonline."
                                                                 "com/common/oauth2/authorize") +
                                                     "\"");
      return finish(std::move(a));
    }
    app = std::move(found->app);
    user_id = std::move(found->user_id);
  }

  if (is_batch) {
    if (call.method != "POST") {
      return finish(GraphError(call, 405, "MethodNotAllowed", "$batch accepts only POST."));
    }
    if (call.app) {
      return finish(GraphError(call, 400, "BadRequest", "Nested batch requests are not allowed."));
    }
    return finish(Batch(call, app, user_id));
  }
  if (!route) {
    if (path_known) {
      return finish(GraphError(
          call, 405, "MethodNotAllowed",
          "The HTTP method '" + call.method + "' is not allowed for the requested resource."));
    }
    std::string segment = segs.size() > 1 ? segs[1] : segs.empty() ? "" : segs[0];
    return finish(GraphError(call, 400, "BadRequest",
                             "Resource not found for the segment '" + segment + "'."));
  }
  if (route->access == Access::kSelfRead) {
    if (user_id.empty()) {
      return finish(GraphError(call, 400, "BadRequest",
                               "/me request is only valid with delegated authentication flow."));
    }
    params = {user_id};  // the handlers serve /me as /users/{signed-in user}
  }
  if (!Allowed(app, route->access)) {
    std::string text = "Insufficient privileges to complete the operation.";
    return finish(route->intune ? IntuneError(call, 403, "Authorization_RequestDenied", text)
                                : GraphError(call, 403, "Authorization_RequestDenied", text));
  }
  if (std::optional<int> wait =
          model_.Throttle(app.client_id, route->intune, IsWrite(call.method))) {
    std::string text = "Too many requests; retry after " + std::to_string(*wait) + " seconds.";
    return finish(route->intune ? IntuneError(call, 429, "TooManyRequests", text, *wait)
                                : GraphError(call, 429, "TooManyRequests", text, *wait));
  }
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
      answer = route->intune ? IntuneError(call, status, code, text)
                             : GraphError(call, status, code, text);
      answer.fault = is500 ? "status-500" : "status-503";
      break;
    }
    case Fault::kLostResponse:
    case Fault::kNone:
      answer = (this->*route->fn)(call, params);
      if (fault.fault == Fault::kLostResponse) {
        answer.drop_connection = true;
        answer.fault = "lost-response";
      }
      break;
  }
  if (top_level) answer.delay_ms = fault.delay_ms;
  return finish(std::move(answer));
}

// ---------------------------------------------------------------------------------------------
// Answers

GraphAnswer GraphRouter::Json(const GraphCall&, int status, json body) {
  GraphAnswer a;
  a.status = status;
  a.body = std::move(body);
  return a;
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

// ---------------------------------------------------------------------------------------------
// importedWindowsAutopilotDeviceIdentities

namespace {

// The body fields of one imported identity; nullopt when a field has the wrong type.
std::optional<ImportInput> ImportFromJson(const json& j) {
  if (!j.is_object()) return std::nullopt;
  bool ok = true;
  ImportInput in;
  in.serial_number = StringField(j, "serialNumber", &ok);
  in.group_tag = StringField(j, "groupTag", &ok);
  in.product_key = StringField(j, "productKey", &ok);
  in.hardware_identifier = StringField(j, "hardwareIdentifier", &ok);
  in.assigned_user_principal_name = StringField(j, "assignedUserPrincipalName", &ok);
  // A client-supplied "state" is accepted and ignored, as the service does.
  if (!ok) return std::nullopt;
  return in;
}

}  // namespace

GraphAnswer GraphRouter::CreateImport(const GraphCall& call, const Params&) {
  json body = json::parse(call.body, nullptr, false);
  std::optional<ImportInput> in = ImportFromJson(body);
  if (!in) {
    return GraphError(call, 400, "BadRequest",
                      "The request body is not a valid importedWindowsAutopilotDeviceIdentity.");
  }
  if (!Base64Decode(in->hardware_identifier).ok()) {
    return GraphError(call, 400, "BadRequest",
                      "Cannot convert the literal '" + in->hardware_identifier +
                          "' to the expected type 'Edm.Binary'.");
  }
  json record = model_.Import({*in}).front();
  json out = {{"@odata.context", kMetadata + call.version +
                                     "/$metadata#deviceManagement/"
                                     "importedWindowsAutopilotDeviceIdentities/$entity"}};
  out.update(record);
  return Json(call, 201, std::move(out));
}

GraphAnswer GraphRouter::ImportBatch(const GraphCall& call, const Params&) {
  json body = json::parse(call.body, nullptr, false);
  const json* list = nullptr;
  if (body.is_object()) {
    auto it = body.find("importedWindowsAutopilotDeviceIdentities");
    if (it != body.end() && it->is_array()) list = &*it;
  }
  if (!list) {
    return GraphError(call, 400, "BadRequest",
                      "The request body must carry an 'importedWindowsAutopilotDeviceIdentities' "
                      "array.");
  }
  size_t limit = model_.config().max_import_batch;
  if (list->size() > limit) {
    return IntuneError(call, 400, "BadRequest",
                       "An import may carry at most " + std::to_string(limit) + " devices; got " +
                           std::to_string(list->size()) + ".");
  }
  std::vector<ImportInput> inputs;
  for (const json& item : *list) {
    std::optional<ImportInput> in = ImportFromJson(item);
    if (!in) {
      return GraphError(call, 400, "BadRequest",
                        "An element is not a valid importedWindowsAutopilotDeviceIdentity.");
    }
    if (!Base64Decode(in->hardware_identifier).ok()) {
      return GraphError(call, 400, "BadRequest",
                        "Cannot convert the literal '" + in->hardware_identifier +
                            "' to the expected type 'Edm.Binary'.");
    }
    inputs.push_back(std::move(*in));
  }
  std::vector<json> records = inputs.empty() ? std::vector<json>() : model_.Import(inputs);
  return Json(
      call, 200,
      {{"@odata.context",
        kMetadata + call.version +
            "/$metadata#Collection(microsoft.graph.importedWindowsAutopilotDeviceIdentity)"},
       {"value", records}});
}

GraphAnswer GraphRouter::GetImport(const GraphCall& call, const Params& p) {
  std::optional<json> record = model_.GetImport(p[0]);
  if (!record) {
    return IntuneError(call, 404, "ResourceNotFound",
                       "importedWindowsAutopilotDeviceIdentity " + p[0] + " was not found.");
  }
  json out = {{"@odata.context", kMetadata + call.version +
                                     "/$metadata#deviceManagement/"
                                     "importedWindowsAutopilotDeviceIdentities/$entity"}};
  out.update(*record);
  return Json(call, 200, std::move(out));
}

GraphAnswer GraphRouter::ListImports(const GraphCall& call, const Params&) {
  return Collection(call, model_.ListImports(),
                    "deviceManagement/importedWindowsAutopilotDeviceIdentities", true, true, false,
                    {"serialNumber"});
}

GraphAnswer GraphRouter::DeleteImport(const GraphCall& call, const Params& p) {
  if (!model_.DeleteImport(p[0])) {
    return IntuneError(call, 404, "ResourceNotFound",
                       "importedWindowsAutopilotDeviceIdentity " + p[0] + " was not found.");
  }
  return NoContent(call);
}

// ---------------------------------------------------------------------------------------------
// windowsAutopilotDeviceIdentities and windowsAutopilotSettings

namespace {

std::string DeviceNotFound(const std::string& id) {
  return "windowsAutopilotDeviceIdentity " + id + " was not found.";
}

}  // namespace

GraphAnswer GraphRouter::GetAutopilot(const GraphCall& call, const Params& p) {
  bool beta = call.version == "beta";
  std::optional<json> device = model_.GetAutopilotDevice(p[0], beta);
  if (!device) return IntuneError(call, 404, "ResourceNotFound", DeviceNotFound(p[0]));
  json out = {{"@odata.context",
               kMetadata + call.version +
                   "/$metadata#deviceManagement/windowsAutopilotDeviceIdentities/$entity"}};
  out.update(*device);
  // $expand=deploymentProfile,intendedDeploymentProfile: no profiles are modelled.
  std::optional<std::map<std::string, std::string>> query = ParseForm(call.query);
  if (beta && query && query->contains("$expand")) {
    out["deploymentProfile"] = nullptr;
    out["intendedDeploymentProfile"] = nullptr;
  }
  return Json(call, 200, std::move(out));
}

GraphAnswer GraphRouter::ListAutopilot(const GraphCall& call, const Params&) {
  // contains() works on the string properties; eq answers 400 as the real service does (§3).
  return Collection(call, model_.ListAutopilotDevices(call.version == "beta"),
                    "deviceManagement/windowsAutopilotDeviceIdentities", true, true, false, {});
}

GraphAnswer GraphRouter::DeleteAutopilot(const GraphCall& call, const Params& p) {
  if (!model_.DeleteAutopilotDevice(p[0])) {
    return IntuneError(call, 404, "ResourceNotFound", DeviceNotFound(p[0]));
  }
  return NoContent(call);
}

GraphAnswer GraphRouter::AssignUser(const GraphCall& call, const Params& p) {
  json body = ParseLenientJson(call.body);
  bool ok = body.is_object();
  std::string upn = ok ? StringField(body, "userPrincipalName", &ok) : "";
  std::string addressable = ok ? StringField(body, "addressableUserName", &ok) : "";
  if (!ok || upn.empty()) {
    return IntuneError(call, 400, "BadRequest", "assignUserToDevice needs a userPrincipalName.");
  }
  if (!model_.AssignUser(p[0], upn, addressable)) {
    return IntuneError(call, 404, "ResourceNotFound", DeviceNotFound(p[0]));
  }
  return NoContent(call);
}

GraphAnswer GraphRouter::UnassignUser(const GraphCall& call, const Params& p) {
  if (!model_.UnassignUser(p[0])) {
    return IntuneError(call, 404, "ResourceNotFound", DeviceNotFound(p[0]));
  }
  return NoContent(call);
}

GraphAnswer GraphRouter::UpdateProperties(const GraphCall& call, const Params& p) {
  json body = ParseLenientJson(call.body);
  if (!body.is_object()) {
    return IntuneError(call, 400, "BadRequest", "updateDeviceProperties needs a JSON object.");
  }
  bool ok = true;
  for (const char* key : {"displayName", "groupTag", "userPrincipalName", "addressableUserName"}) {
    StringField(body, key, &ok);
  }
  if (!ok) {
    return IntuneError(call, 400, "BadRequest", "updateDeviceProperties takes string values.");
  }
  if (!model_.UpdateDeviceProperties(p[0], body)) {
    return IntuneError(call, 404, "ResourceNotFound", DeviceNotFound(p[0]));
  }
  return NoContent(call);
}

GraphAnswer GraphRouter::Sync(const GraphCall& call, const Params&) {
  if (std::optional<ApiError> e = model_.Sync()) {
    return IntuneError(call, e->status, e->code, e->message, e->retry_after_seconds);
  }
  return NoContent(call);
}

GraphAnswer GraphRouter::GetSettings(const GraphCall& call, const Params&) {
  json out = {{"@odata.context", kMetadata + call.version +
                                     "/$metadata#deviceManagement/windowsAutopilotSettings/"
                                     "$entity"}};
  out.update(model_.AutopilotSettings());
  return Json(call, 200, std::move(out));
}

// ---------------------------------------------------------------------------------------------
// Entra: devices, groups, users

GraphAnswer GraphRouter::ListDevices(const GraphCall& call, const Params&) {
  return Collection(call, model_.ListDevices(), "devices", false, false, true, {});
}

GraphAnswer GraphRouter::GetDevice(const GraphCall& call, const Params& p) {
  std::optional<json> device = model_.GetDevice(p[0]);
  if (!device) {
    return GraphError(call, 404, "Request_ResourceNotFound",
                      "Resource '" + p[0] +
                          "' does not exist or one of its queried reference-property objects are "
                          "not present.");
  }
  json out = {{"@odata.context", kMetadata + call.version + "/$metadata#devices/$entity"}};
  out.update(*device);
  return Json(call, 200, std::move(out));
}

GraphAnswer GraphRouter::ListGroups(const GraphCall& call, const Params&) {
  return Collection(call, model_.ListGroups(), "groups", false, false, true, {});
}

GraphAnswer GraphRouter::GetGroup(const GraphCall& call, const Params& p) {
  std::optional<json> group = model_.GetGroup(p[0]);
  if (!group) {
    return GraphError(call, 404, "Request_ResourceNotFound",
                      "Resource '" + p[0] +
                          "' does not exist or one of its queried reference-property objects are "
                          "not present.");
  }
  json out = {{"@odata.context", kMetadata + call.version + "/$metadata#groups/$entity"}};
  out.update(*group);
  return Json(call, 200, std::move(out));
}

GraphAnswer GraphRouter::ListMembers(const GraphCall& call, const Params& p) {
  std::optional<std::vector<json>> members = model_.ListGroupMembers(p[0]);
  if (!members) {
    return GraphError(call, 404, "Request_ResourceNotFound",
                      "Resource '" + p[0] +
                          "' does not exist or one of its queried reference-property objects are "
                          "not present.");
  }
  return Collection(call, std::move(*members), "directoryObjects", false, false, false, {});
}

GraphAnswer GraphRouter::AddMemberRef(const GraphCall& call, const Params& p) {
  json body = json::parse(call.body, nullptr, false);
  bool ok = body.is_object();
  std::string url = ok ? StringField(body, "@odata.id", &ok) : "";
  std::optional<std::string> oid = ok ? ObjectIdFromUrl(url) : std::nullopt;
  if (!oid) {
    return GraphError(call, 400, "Request_BadRequest",
                      "Invalid URL format specified in @odata.id: '" + url + "'.");
  }
  if (std::optional<ApiError> e = model_.AddMembers(p[0], {*oid})) {
    return GraphError(call, e->status, e->code, e->message);
  }
  return NoContent(call);
}

GraphAnswer GraphRouter::RemoveMemberRef(const GraphCall& call, const Params& p) {
  if (std::optional<ApiError> e = model_.RemoveMember(p[0], p[1])) {
    return GraphError(call, e->status, e->code, e->message);
  }
  return NoContent(call);
}

GraphAnswer GraphRouter::PatchGroup(const GraphCall& call, const Params& p) {
  json body = json::parse(call.body, nullptr, false);
  if (!body.is_object()) {
    return GraphError(call, 400, "BadRequest", "The request body is not a JSON object.");
  }
  if (!model_.GetGroup(p[0])) {
    return GraphError(call, 404, "Request_ResourceNotFound",
                      "Resource '" + p[0] +
                          "' does not exist or one of its queried reference-property objects are "
                          "not present.");
  }
  auto bind = body.find("members@odata.bind");
  if (bind == body.end()) return NoContent(call);  // other properties are not modelled
  if (!bind->is_array()) {
    return GraphError(call, 400, "Request_BadRequest", "members@odata.bind must be an array.");
  }
  if (bind->size() > kMaxMembersPerPatch) {
    // The documented limit is 20; this wording is the simulator's.
    return GraphError(call, 400, "Request_BadRequest",
                      "The request adds " + std::to_string(bind->size()) +
                          " members; at most 20 may be added in one request.");
  }
  std::vector<std::string> ids;
  for (const json& item : *bind) {
    std::optional<std::string> oid =
        item.is_string() ? ObjectIdFromUrl(item.get<std::string>()) : std::nullopt;
    if (!oid) {
      return GraphError(call, 400, "Request_BadRequest",
                        "Invalid URL format specified in members@odata.bind.");
    }
    ids.push_back(*oid);
  }
  if (std::optional<ApiError> e = model_.AddMembers(p[0], ids)) {
    // All or nothing; an unknown object is a bad request here rather than a 404.
    if (e->status == 404) {
      return GraphError(call, 400, "Request_BadRequest",
                        "Invalid object identifier in members@odata.bind. " + e->message);
    }
    return GraphError(call, e->status, e->code, e->message);
  }
  return NoContent(call);
}

GraphAnswer GraphRouter::MemberObjects(const GraphCall& call, const Params& p) {
  json body = json::parse(call.body, nullptr, false);
  if (!body.is_object() || !body.contains("securityEnabledOnly") ||
      !body["securityEnabledOnly"].is_boolean()) {
    return GraphError(call, 400, "Request_BadRequest",
                      "The request body must carry a boolean 'securityEnabledOnly'.");
  }
  std::optional<std::vector<std::string>> groups =
      model_.MemberObjects(p[0], body["securityEnabledOnly"].get<bool>());
  if (!groups) {
    return GraphError(call, 404, "Request_ResourceNotFound",
                      "Resource '" + p[0] +
                          "' does not exist or one of its queried reference-property objects are "
                          "not present.");
  }
  return Json(call, 200,
              {{"@odata.context", kMetadata + call.version + "/$metadata#Collection(Edm.String)"},
               {"value", *groups}});
}

// ---------------------------------------------------------------------------------------------
// $batch (§6): each sub-request is dispatched like a top-level one, without connection faults.

GraphAnswer GraphRouter::Batch(const GraphCall& call, const SimApp& app,
                               const std::string& user_id) {
  FaultDecision fault = model_.DrawFault(true);
  GraphAnswer answer;
  if (fault.fault == Fault::kDropBeforeEffect) {
    answer.status = 503;
    answer.drop_connection = true;
    answer.fault = "dropped";
    return answer;
  }
  if (fault.fault == Fault::kStatus500 || fault.fault == Fault::kStatus503) {
    bool is500 = fault.fault == Fault::kStatus500;
    answer =
        GraphError(call, is500 ? 500 : 503, is500 ? "InternalServerError" : "ServiceUnavailable",
                   "The service encountered an error (simulated fault).");
    answer.fault = is500 ? "status-500" : "status-503";
    return answer;
  }

  auto bad = [&](const std::string& text) { return GraphError(call, 400, "BadRequest", text); };
  json body = json::parse(call.body, nullptr, false);
  if (!body.is_object() || !body.contains("requests") || !body["requests"].is_array()) {
    return bad("Invalid batch payload format.");
  }
  const json& requests = body["requests"];
  if (requests.empty()) return bad("Invalid batch payload format: no requests.");
  if (requests.size() > kMaxBatchRequests) {
    return bad("Number of batch requests exceed the limit of 20.");
  }
  std::set<std::string> seen;
  for (const json& r : requests) {
    if (!r.is_object() || !r.contains("id") || !r["id"].is_string() ||
        r["id"].get<std::string>().empty() || !r.contains("method") || !r["method"].is_string() ||
        !r.contains("url") || !r["url"].is_string()) {
      return bad("Invalid batch payload format: each request needs an id, a method and a url.");
    }
    std::string id = r["id"];
    if (r.contains("headers") && !r["headers"].is_object()) {
      return bad("Invalid batch payload format: headers of request " + id + " must be an object.");
    }
    if (r.contains("dependsOn")) {
      if (!r["dependsOn"].is_array())
        return bad("dependsOn of request " + id + " is not an array.");
      for (const json& d : r["dependsOn"]) {
        // Simulator's rule: a dependency must come earlier in the array.
        if (!d.is_string() || !seen.contains(d.get<std::string>())) {
          return bad("Request " + id + " depends on an unknown or later request.");
        }
      }
    }
    if (!seen.insert(id).second) return bad("Request Id '" + id + "' must be unique.");
    if (r.contains("body")) {
      bool has_type = false;
      if (r.contains("headers")) {
        for (auto& [name, value] : r["headers"].items()) {
          has_type = has_type || EqualsIgnoreCase(name, "Content-Type");
        }
      }
      if (!has_type) {
        return bad("Write request id : " + id + " does not contain Content-Type header or body.");
      }
    }
  }

  std::map<std::string, int> statuses;
  json responses = json::array();
  for (const json& r : requests) {
    std::string id = r["id"];
    json entry = {{"id", id}};
    bool failed_dependency = false;
    if (r.contains("dependsOn")) {
      for (const json& d : r["dependsOn"]) {
        int s = statuses[d.get<std::string>()];
        failed_dependency = failed_dependency || s < 200 || s > 299;
      }
    }
    GraphAnswer sub;
    std::string url = r["url"];
    if (failed_dependency) {
      sub = GraphError(call, 424, "FailedDependency",
                       "The request was not run because a request it depends on failed.");
    } else if (url.empty() || url.find("://") != std::string::npos) {
      sub = GraphError(call, 400, "BadRequest", "Invalid request URL '" + url + "'.");
    } else {
      GraphCall c;
      c.method = r["method"].get<std::string>();
      for (char& ch : c.method) ch = char(std::toupper(static_cast<unsigned char>(ch)));
      c.version = call.version;
      size_t q = url.find('?');
      c.path = url.substr(0, q);
      if (!c.path.starts_with("/")) c.path = "/" + c.path;
      if (q != std::string::npos) c.query = url.substr(q + 1);
      if (r.contains("headers")) {
        for (auto& [name, value] : r["headers"].items()) {
          if (value.is_string()) c.headers[Lower(name)] = value.get<std::string>();
        }
      }
      if (r.contains("body")) {
        c.body = r["body"].is_string() ? r["body"].get<std::string>() : JsonText(r["body"]);
      }
      c.base_url = call.base_url;
      c.app = app;
      c.user_id = user_id;
      sub = Dispatch(c);
    }
    statuses[id] = sub.status;
    entry["status"] = sub.status;
    json headers = json::object();
    for (auto& [name, value] : sub.headers) headers[name] = value;
    if (sub.body) headers["Content-Type"] = "application/json";
    entry["headers"] = std::move(headers);
    if (sub.body) entry["body"] = std::move(*sub.body);
    responses.push_back(std::move(entry));
  }
  answer = Json(call, 200, {{"responses", std::move(responses)}});
  if (fault.fault == Fault::kLostResponse) {
    answer.drop_connection = true;
    answer.fault = "lost-response";
  }
  answer.delay_ms = fault.delay_ms;
  return answer;
}

}  // namespace apm::sim
