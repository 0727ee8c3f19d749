// The simulator's app registration routes: applications (and their secrets), service principals,
// app role assignments (admin consent, groups assigned to an app), the signed-in user's
// directory roles, new groups and Autopilot deployment profiles — what `apm-server setup entra`
// reads and writes. Facts: docs/graph-facts.md#setup.
#include <algorithm>

#include "core/text.h"
#include "server/clock.h"
#include "server/http/form.h"
#include "server/json_text.h"
#include "server/random_guid.h"
#include "tenantsim/client_assertion.h"
#include "tenantsim/graph_query.h"
#include "tenantsim/graph_router.h"

namespace apm::sim {

using json = nlohmann::json;

namespace {

// Directory roles by template id (Entra's built-in roles).
struct DirectoryRoleTemplate {
  const char* name;
  const char* template_id;
};
const std::vector<DirectoryRoleTemplate>& DirectoryRoleTemplates() {
  static const std::vector<DirectoryRoleTemplate> kRoles = {
      {"Global Administrator", "62e90394-69f5-4237-9190-012177145e10"},
      {"Privileged Role Administrator", "e8611ab8-c189-46e8-94e1-60213ab1f814"},
      {"Cloud Application Administrator", "158c047a-c907-4556-b7ef-446551a6b5f7"},
      {"Application Administrator", "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3"},
      {"Groups Administrator", "fdd7a751-b60b-444a-984c-02652fe8fa1c"},
      {"Intune Administrator", "3a2c62db-5318-420d-8d74-23affee5d9d5"},
  };
  return kRoles;
}

bool HasAnyRole(const std::vector<std::string>& held, std::initializer_list<const char*> wanted) {
  for (const char* w : wanted) {
    if (std::find(held.begin(), held.end(), w) != held.end()) return true;
  }
  return false;
}

json PasswordJson(const SimPassword& p, bool with_secret) {
  return {{"customKeyIdentifier", nullptr},
          {"displayName", p.display_name},
          {"endDateTime", FormatTimestamp(p.end_ms)},
          {"hint", p.secret.substr(0, 3)},
          {"keyId", p.key_id},
          {"secretText", with_secret ? json(p.secret) : json(nullptr)},
          {"startDateTime", FormatTimestamp(p.start_ms)}};
}

json AssignmentJson(const SimAssignment& a) {
  return {{"id", a.id},
          {"deletedDateTime", nullptr},
          {"appRoleId", a.app_role_id},
          {"createdDateTime", FormatTimestamp(a.created_ms)},
          {"principalDisplayName", a.principal_name},
          {"principalId", a.principal_id},
          {"principalType", a.principal_type},
          {"resourceDisplayName", a.resource_name},
          {"resourceId", a.resource_id}};
}

json GraphServicePrincipalJson() {
  json roles = json::array();
  for (const GraphAppRole& r : GraphAppRoles()) {
    roles.push_back({{"allowedMemberTypes", {"Application"}},
                     {"description", std::string("Allows the app ") + r.value},
                     {"displayName", r.value},
                     {"id", r.id},
                     {"isEnabled", true},
                     {"origin", "Application"},
                     {"value", r.value}});
  }
  return {{"id", kGraphServicePrincipalId},   {"appId", kGraphAppId},
          {"displayName", "Microsoft Graph"}, {"servicePrincipalType", "Application"},
          {"accountEnabled", true},           {"appRoleAssignmentRequired", false},
          {"appRoles", std::move(roles)}};
}

json ServicePrincipalJson(const SimApp& app) {
  return {{"id", app.service_principal_id},  {"appId", app.client_id},
          {"displayName", app.display_name}, {"servicePrincipalType", "Application"},
          {"accountEnabled", true},          {"appRoleAssignmentRequired", false},
          {"appRoles", json::array()}};
}

void SortById(std::vector<json>& items) {
  std::sort(items.begin(), items.end(), [](const json& a, const json& b) {
    return a["id"].get<std::string>() < b["id"].get<std::string>();
  });
}

// The application's settable fields from a POST or PATCH body; a message when one is wrong.
std::optional<std::string> ApplyApplicationFields(const json& body, SimApp& app) {
  if (body.contains("displayName")) {
    if (!body["displayName"].is_string() || body["displayName"].get<std::string>().empty()) {
      return "Invalid value specified for property 'displayName' of resource 'Application'.";
    }
    app.display_name = body["displayName"].get<std::string>();
  }
  if (body.contains("groupMembershipClaims")) {
    const json& g = body["groupMembershipClaims"];
    static const std::vector<std::string> kValues = {"None", "SecurityGroup", "All",
                                                     "ApplicationGroup", "DirectoryRole"};
    if (!g.is_null() && (!g.is_string() || std::find(kValues.begin(), kValues.end(),
                                                     g.get<std::string>()) == kValues.end())) {
      return "Invalid value specified for property 'groupMembershipClaims' of resource "
             "'Application'.";
    }
    app.group_membership_claims = g.is_null() ? "" : g.get<std::string>();
    app.group_claims =
        !app.group_membership_claims.empty() && app.group_membership_claims != "None";
  }
  if (body.contains("web")) {
    const json& web = body["web"];
    if (!web.is_object()) return "Invalid value specified for property 'web'.";
    if (web.contains("redirectUris")) {
      if (!web["redirectUris"].is_array()) return "Invalid value for property 'redirectUris'.";
      std::vector<std::string> uris;
      for (const json& u : web["redirectUris"]) {
        if (!u.is_string()) return "Invalid value for property 'redirectUris'.";
        uris.push_back(u.get<std::string>());
      }
      app.redirect_uris = std::move(uris);
    }
    if (web.contains("logoutUrl")) {
      if (!web["logoutUrl"].is_string() && !web["logoutUrl"].is_null()) {
        return "Invalid value for property 'logoutUrl'.";
      }
      app.logout_url = web["logoutUrl"].is_null() ? "" : web["logoutUrl"].get<std::string>();
      app.post_logout_redirect_uris = {};
      if (!app.logout_url.empty()) app.post_logout_redirect_uris.push_back(app.logout_url);
    }
  }
  if (body.contains("keyCredentials")) {
    // PATCH replaces the whole collection: what Graph showed plus the new certificate.
    const json& keys = body["keyCredentials"];
    if (!keys.is_array()) return "Invalid value specified for property 'keyCredentials'.";
    json stored = json::array();
    std::string newest;
    for (const json& k : keys) {
      std::optional<UploadedCertificate> cert =
          k.is_object() ? CertificateFromBase64Der(StringMember(k, "key")) : std::nullopt;
      if (!cert || StringMember(k, "type") != "AsymmetricX509Cert" ||
          StringMember(k, "usage") != "Verify") {
        return "Key credential is not valid: each needs type AsymmetricX509Cert, usage Verify "
               "and the certificate's base64 DER as key.";
      }
      std::string key_id = StringMember(k, "keyId");
      stored.push_back({{"customKeyIdentifier", nullptr},
                        {"displayName", StringMember(k, "displayName")},
                        {"endDateTime", FormatTimestamp(cert->end_ms)},
                        {"key", StringMember(k, "key")},
                        {"keyId", key_id.empty() ? RandomGuid() : key_id},
                        {"startDateTime", FormatTimestamp(cert->start_ms)},
                        {"type", "AsymmetricX509Cert"},
                        {"usage", "Verify"}});
      newest = cert->pem;
    }
    app.key_credentials = std::move(stored);
    app.certificate_pem = newest;
  }
  if (body.contains("requiredResourceAccess")) {
    if (!body["requiredResourceAccess"].is_array()) {
      return "Invalid value specified for property 'requiredResourceAccess'.";
    }
    app.required_resource_access = body["requiredResourceAccess"];
  }
  return std::nullopt;
}

}  // namespace

namespace {

json ApplicationJson(const SimApp& app, const std::string& object_id, bool with_keys) {
  json secrets = json::array();
  // The command line's secret, shown when its end date is known (the doctor reads it).
  if (!app.client_secret.empty() && app.secret_end_ms != 0) {
    secrets.push_back(PasswordJson({object_id + "-cli", "apm-server", app.client_secret,
                                    app.secret_end_ms - 730 * 86'400'000LL, app.secret_end_ms},
                                   false));
  }
  for (const SimPassword& p : app.passwords) secrets.push_back(PasswordJson(p, false));
  // A certificate's data is shown only on $select=keyCredentials of one application.
  json keys = app.key_credentials;
  for (json& k : keys) {
    if (!with_keys) k["key"] = nullptr;
  }
  return {{"id", object_id},
          {"appId", app.client_id},
          {"displayName", app.display_name},
          {"createdDateTime", FormatTimestamp(app.created_ms)},
          {"signInAudience", "AzureADMyOrg"},
          {"groupMembershipClaims",
           app.group_membership_claims.empty() ? json(nullptr) : json(app.group_membership_claims)},
          {"web",
           {{"redirectUris", app.redirect_uris},
            {"logoutUrl", app.logout_url.empty() ? json(nullptr) : json(app.logout_url)},
            {"homePageUrl", nullptr},
            {"implicitGrantSettings",
             {{"enableAccessTokenIssuance", false}, {"enableIdTokenIssuance", false}}}}},
          {"requiredResourceAccess", app.required_resource_access},
          {"passwordCredentials", std::move(secrets)},
          {"keyCredentials", std::move(keys)}};
}

}  // namespace

GraphAnswer GraphRouter::ListApplications(const GraphCall& call, const Params&) {
  std::vector<json> items;
  for (const SimApp& app : identity_.Apps()) {
    if (app.public_client) continue;  // Microsoft's own apps are not the tenant's registrations
    items.push_back(ApplicationJson(app, app.object_id, false));
  }
  SortById(items);
  return Collection(call, std::move(items), "applications", false, false, true,
                    {"appId", "displayName"});
}

GraphAnswer GraphRouter::CreateApplication(const GraphCall& call, const Params&) {
  json body = json::parse(call.body, nullptr, false);
  if (!body.is_object() || !body.contains("displayName")) {
    return GraphError(call, 400, "Request_BadRequest",
                      "A value is required for property 'displayName' of resource 'Application'.");
  }
  SimApp probe;
  if (std::optional<std::string> bad = ApplyApplicationFields(body, probe)) {
    return GraphError(call, 400, "Request_BadRequest", *bad);
  }
  SimApp created =
      identity_.CreateApplication([&](SimApp& app) { (void)ApplyApplicationFields(body, app); });
  json out = {{"@odata.context", kMetadata + call.version + "/$metadata#applications/$entity"}};
  out.update(ApplicationJson(created, created.object_id, false));
  return Json(call, 201, std::move(out));
}

GraphAnswer GraphRouter::GetApplication(const GraphCall& call, const Params& p) {
  std::optional<SimApp> app = identity_.FindApplication(p[0]);
  if (!app) {
    return ResourceNotFound(call, p[0]);
  }
  std::optional<std::map<std::string, std::string>> query = ParseForm(call.query);
  const bool with_keys = query && query->contains("$select") &&
                         query->at("$select").find("keyCredentials") != std::string::npos;
  json out = {{"@odata.context", kMetadata + call.version + "/$metadata#applications/$entity"}};
  out.update(ApplicationJson(*app, app->object_id, with_keys));
  return Json(call, 200, std::move(out));
}

GraphAnswer GraphRouter::PatchApplication(const GraphCall& call, const Params& p) {
  json body = json::parse(call.body, nullptr, false);
  if (!body.is_object()) {
    return GraphError(call, 400, "BadRequest", "The request body is not a JSON object.");
  }
  std::optional<std::string> bad;
  bool found = identity_.UpdateApplication(p[0], [&](SimApp& app) {
    SimApp edited = app;
    bad = ApplyApplicationFields(body, edited);
    if (!bad) app = std::move(edited);
  });
  if (!found) {
    return ResourceNotFound(call, p[0]);
  }
  if (bad) return GraphError(call, 400, "Request_BadRequest", *bad);
  return NoContent(call);
}

GraphAnswer GraphRouter::AddApplicationPassword(const GraphCall& call, const Params& p) {
  json body = json::parse(call.body, nullptr, false);
  json credential = body.is_object() && body.contains("passwordCredential")
                        ? body["passwordCredential"]
                        : json::object();
  if (!credential.is_object()) {
    return GraphError(call, 400, "Request_BadRequest",
                      "Invalid value specified for property 'passwordCredential'.");
  }
  const int64_t now = clock_.NowMs();
  int64_t end_ms = now + 730 * 86'400'000LL;  // Graph's default: two years
  if (credential.contains("endDateTime")) {
    std::optional<int64_t> end = credential["endDateTime"].is_string()
                                     ? ParseTimestamp(credential["endDateTime"].get<std::string>())
                                     : std::nullopt;
    if (!end || *end <= now) {
      return GraphError(call, 400, "Request_BadRequest",
                        "Invalid value specified for property 'endDateTime' of resource "
                        "'PasswordCredential'.");
    }
    end_ms = *end;
  }
  std::optional<SimPassword> added =
      identity_.AddPassword(p[0], StringMember(credential, "displayName"), end_ms);
  if (!added) {
    return ResourceNotFound(call, p[0]);
  }
  json out = {{"@odata.context",
               kMetadata + call.version + "/$metadata#microsoft.graph.passwordCredential"}};
  out.update(PasswordJson(*added, true));
  return Json(call, 200, std::move(out));
}

GraphAnswer GraphRouter::ListServicePrincipals(const GraphCall& call, const Params&) {
  std::vector<json> items = {GraphServicePrincipalJson()};
  for (const SimApp& app : identity_.Apps()) {
    if (!app.service_principal_id.empty()) items.push_back(ServicePrincipalJson(app));
  }
  SortById(items);
  return Collection(call, std::move(items), "servicePrincipals", false, false, true,
                    {"appId", "displayName"});
}

GraphAnswer GraphRouter::CreateServicePrincipal(const GraphCall& call, const Params&) {
  json body = json::parse(call.body, nullptr, false);
  const std::string app_id = body.is_object() ? StringMember(body, "appId") : "";
  if (app_id.empty()) {
    return GraphError(call, 400, "Request_BadRequest",
                      "A value is required for property 'appId' of resource 'ServicePrincipal'.");
  }
  std::string sp_id;
  switch (identity_.CreateServicePrincipal(app_id, &sp_id)) {
    case Identity::Created::kExists:
      return GraphError(call, 409, "Request_MultipleObjectsWithSameKeyValue",
                        "The service principal cannot be created, updated, or restored because "
                        "the service principal name " +
                            app_id + " is already in use.");
    case Identity::Created::kNoSuchApp:
      return GraphError(call, 400, "Request_BadRequest",
                        "The appId '" + app_id +
                            "' of the service principal does not reference a valid application "
                            "object.");
    case Identity::Created::kCreated:
      break;
  }
  std::optional<SimApp> app = identity_.FindApp(app_id);
  json out = {
      {"@odata.context", kMetadata + call.version + "/$metadata#servicePrincipals/$entity"}};
  out.update(ServicePrincipalJson(*app));
  return Json(call, 201, std::move(out));
}

GraphAnswer GraphRouter::ListAppRoleAssignments(const GraphCall& call, const Params& p) {
  // What the service principal holds: for an app's, the Graph permissions granted to it.
  std::optional<SimApp> app = identity_.AppOfServicePrincipal(p[0]);
  if (!app && p[0] != kGraphServicePrincipalId) {
    return ResourceNotFound(call, p[0]);
  }
  std::vector<json> items;
  if (app) {
    for (const SimAssignment& a : app->granted) items.push_back(AssignmentJson(a));
  }
  SortById(items);
  return Collection(call, std::move(items), "appRoleAssignments", false, false, false, {});
}

GraphAnswer GraphRouter::ListAppRoleAssignedTo(const GraphCall& call, const Params& p) {
  // Who holds the service principal's roles: groups and users assigned to an app; apps granted
  // Graph's permissions.
  std::vector<json> items;
  if (p[0] == kGraphServicePrincipalId) {
    for (const SimApp& app : identity_.Apps()) {
      for (const SimAssignment& a : app.granted) items.push_back(AssignmentJson(a));
    }
  } else if (std::optional<SimApp> app = identity_.AppOfServicePrincipal(p[0])) {
    for (const SimAssignment& a : app->assigned) items.push_back(AssignmentJson(a));
  } else {
    return ResourceNotFound(call, p[0]);
  }
  SortById(items);
  return Collection(call, std::move(items), "appRoleAssignments", false, false, false, {});
}

GraphAnswer GraphRouter::AddAppRoleAssignedTo(const GraphCall& call, const Params& p) {
  const std::string& caller = p.back();  // "" for an app-only token
  json body = json::parse(call.body, nullptr, false);
  const std::string principal_id = body.is_object() ? StringMember(body, "principalId") : "";
  const std::string resource_id = body.is_object() ? StringMember(body, "resourceId") : "";
  const std::string app_role_id = body.is_object() ? StringMember(body, "appRoleId") : "";
  if (principal_id.empty() || resource_id.empty() || app_role_id.empty()) {
    return GraphError(call, 400, "Request_BadRequest",
                      "principalId, resourceId and appRoleId are required.");
  }
  if (resource_id != p[0]) {
    return GraphError(call, 400, "Request_BadRequest",
                      "The resourceId must be the service principal in the URL.");
  }
  const std::string denied = "Insufficient privileges to complete the operation.";
  std::vector<std::string> roles =
      caller.empty() ? std::vector<std::string>{} : model_.DirectoryRoles(caller);
  std::variant<SimAssignment, std::string> made;
  if (p[0] == kGraphServicePrincipalId) {
    // Consent to Microsoft Graph's application permissions: Global or Privileged Role
    // Administrator only (Cloud Application Administrators cannot grant Graph's app roles).
    if (!caller.empty() &&
        !HasAnyRole(roles, {"Global Administrator", "Privileged Role Administrator"})) {
      return GraphError(call, 403, "Authorization_RequestDenied", denied);
    }
    made = identity_.GrantGraphRole(principal_id, app_role_id);
  } else {
    if (!caller.empty() &&
        !HasAnyRole(roles, {"Global Administrator", "Privileged Role Administrator",
                            "Cloud Application Administrator", "Application Administrator"})) {
      return GraphError(call, 403, "Authorization_RequestDenied", denied);
    }
    if (app_role_id != kDefaultAccessRoleId) {
      return GraphError(call, 400, "Request_BadRequest",
                        "Permission being assigned was not found on application");
    }
    std::optional<json> group = model_.GetGroup(principal_id);
    if (!group) {
      return ResourceNotFound(call, principal_id);
    }
    made = identity_.AssignToApp(p[0], principal_id, "Group", StringMember(*group, "displayName"));
  }
  if (const std::string* e = std::get_if<std::string>(&made)) {
    const bool missing = e->starts_with("Resource '");
    return GraphError(call, missing ? 404 : 400,
                      missing ? "Request_ResourceNotFound" : "Request_BadRequest", *e);
  }
  json out = {
      {"@odata.context", kMetadata + call.version + "/$metadata#appRoleAssignments/$entity"}};
  out.update(AssignmentJson(std::get<SimAssignment>(made)));
  return Json(call, 201, std::move(out));
}

GraphAnswer GraphRouter::MyMemberOf(const GraphCall& call, const Params& p) {
  std::vector<json> items;
  for (const std::string& name : model_.DirectoryRoles(p[0])) {
    for (const DirectoryRoleTemplate& t : DirectoryRoleTemplates()) {
      if (name != t.name) continue;
      items.push_back({{"@odata.type", "#microsoft.graph.directoryRole"},
                       {"id", std::string("d1") + std::string(t.template_id).substr(2)},
                       {"deletedDateTime", nullptr},
                       {"description", name},
                       {"displayName", name},
                       {"roleTemplateId", t.template_id}});
    }
  }
  for (const std::string& gid :
       model_.MemberObjects(p[0], false).value_or(std::vector<std::string>{})) {
    if (std::optional<json> g = model_.GetGroup(gid)) {
      json item = {{"@odata.type", "#microsoft.graph.group"}};
      item.update(*g);
      items.push_back(std::move(item));
    }
  }
  SortById(items);
  return Collection(call, std::move(items), "directoryObjects", false, false, false, {});
}

GraphAnswer GraphRouter::CreateGroup(const GraphCall& call, const Params&) {
  json body = json::parse(call.body, nullptr, false);
  if (!body.is_object()) {
    return GraphError(call, 400, "BadRequest", "The request body is not a JSON object.");
  }
  for (const char* field : {"displayName", "mailNickname"}) {
    if (StringMember(body, field).empty()) {
      return GraphError(
          call, 400, "Request_BadRequest",
          std::string("A value is required for property '") + field + "' of resource 'Group'.");
    }
  }
  if (!body.contains("mailEnabled") || !body["mailEnabled"].is_boolean() ||
      !body.contains("securityEnabled") || !body["securityEnabled"].is_boolean()) {
    return GraphError(call, 400, "Request_BadRequest",
                      "mailEnabled and securityEnabled are required and must be true or false.");
  }
  if (body["mailEnabled"].get<bool>()) {
    return GraphError(call, 400, "Request_BadRequest",
                      "Creating mail-enabled security groups is not supported through Graph.");
  }
  const std::string id =
      model_.AddGroup(StringMember(body, "displayName"), body["securityEnabled"].get<bool>());
  json out = {{"@odata.context", kMetadata + call.version + "/$metadata#groups/$entity"}};
  out.update(*model_.GetGroup(id));
  return Json(call, 201, std::move(out));
}

GraphAnswer GraphRouter::CreateDeploymentProfile(const GraphCall& call, const Params&) {
  json body = json::parse(call.body, nullptr, false);
  std::variant<json, ApiError> made = model_.CreateDeploymentProfile(body);
  if (const ApiError* e = std::get_if<ApiError>(&made)) {
    return IntuneError(call, e->status, e->code, e->message);
  }
  json out = {{"@odata.context",
               kMetadata + call.version +
                   "/$metadata#deviceManagement/windowsAutopilotDeploymentProfiles/$entity"}};
  out.update(std::get<json>(made));
  return Json(call, 201, std::move(out));
}

GraphAnswer GraphRouter::ListProfileAssignments(const GraphCall& call, const Params& p) {
  std::optional<std::vector<json>> items = model_.DeploymentProfileAssignments(p[0]);
  if (!items) {
    return IntuneError(call, 404, "ResourceNotFound",
                       "No deployment profile with id " + p[0] + ".");
  }
  return Collection(call, std::move(*items), "windowsAutopilotDeploymentProfileAssignments", true,
                    false, false, {});
}

GraphAnswer GraphRouter::AssignDeploymentProfile(const GraphCall& call, const Params& p) {
  json body = json::parse(call.body, nullptr, false);
  const json target = body.is_object() && body.contains("target") ? body["target"] : json();
  const std::string group_id = target.is_object() ? StringMember(target, "groupId") : "";
  if (group_id.empty() ||
      StringMember(target, "@odata.type") != "#microsoft.graph.groupAssignmentTarget") {
    return IntuneError(call, 400, "BadRequest",
                       "A target of @odata.type #microsoft.graph.groupAssignmentTarget with a "
                       "groupId is required.");
  }
  std::variant<json, ApiError> made = model_.AssignDeploymentProfile(p[0], group_id);
  if (const ApiError* e = std::get_if<ApiError>(&made)) {
    return IntuneError(call, e->status, e->code, e->message);
  }
  return Json(call, 201, std::get<json>(made));
}

}  // namespace apm::sim
