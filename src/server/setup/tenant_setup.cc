#include "server/setup/tenant_setup.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <map>
#include <thread>
#include <tuple>

#include "server/clock.h"
#include "server/graph/graph_resources.h"
#include "server/http/form.h"
#include "server/json_text.h"
#include "server/setup/setup_files.h"

namespace apm {
namespace {

using json = nlohmann::json;

constexpr const char* kGraphAppId = "00000003-0000-0000-c000-000000000000";
constexpr const char* kDefaultAccess = "00000000-0000-0000-0000-000000000000";
constexpr const char* kGlobalAdministrator = "62e90394-69f5-4237-9190-012177145e10";
constexpr const char* kPrivilegedRoleAdministrator = "e8611ab8-c189-46e8-94e1-60213ab1f814";
// A secret ending sooner than this is replaced (the doctor warns from the same day count).
constexpr int64_t kRenewSecretDays = 30;

std::string Eq(const char* field, const std::string& value) {
  return std::string("$filter=") + FormEncode(std::string(field) + " eq " + ODataQuoted(value));
}

// A mailNickname from a display name: letters and digits only, as Entra requires.
std::string MailNickname(const std::string& name) {
  std::string out;
  for (char c : name) {
    if (std::isalnum(static_cast<unsigned char>(c))) out.push_back(c);
  }
  return out.empty() ? "apmgroup" : out;
}

bool Contains(const json& list, const std::string& value) {
  if (!list.is_array()) return false;
  return std::any_of(list.begin(), list.end(),
                     [&](const json& v) { return v.is_string() && v.get<std::string>() == value; });
}

}  // namespace

const std::vector<AppPermission>& RequiredAppPermissions() {
  static const std::vector<AppPermission> kPermissions = {
      {"DeviceManagementServiceConfig.ReadWrite.All", "importing devices, sync, profiles"},
      {"DeviceManagementManagedDevices.ReadWrite.All", "re-registering and removing records"},
      {"Device.Read.All", "finding the Entra device of an import"},
      {"GroupMember.ReadWrite.All", "adding devices to AutopilotProfileGroup"},
      {"Application.Read.All", "the doctor's warning before the client secret ends"},
  };
  return kPermissions;
}

// Microsoft Graph's application permissions by name, as its service principal lists them.
struct TenantSetup::GraphRoles {
  std::map<std::string, std::string> ids;
};

TenantSetup::TenantSetup(const Config& config, SetupOptions options, GraphClient& graph,
                         const Clock& clock, Sleep sleep)
    : config_(config),
      options_(std::move(options)),
      graph_(graph),
      clock_(clock),
      sleep_(sleep ? std::move(sleep)
                   : Sleep([](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); })) {}

Result<json> TenantSetup::Call(const std::string& method, const std::string& url,
                               std::optional<json> body, const std::string& what) {
  GraphClient::Answer a;
  // An object made moments ago may not have reached every replica yet: a reference to it can
  // answer "does not exist" for a few seconds. Waits 1+2+4+8+8 s at most.
  std::chrono::milliseconds wait(1000);
  for (int attempt = 0;; ++attempt) {
    a = graph_.Send({.method = method,
                     .url = url,
                     .body = body,
                     .idempotent = method != "POST",
                     .retry_429 = true});
    const std::string message = StringMember(MemberOr(a.body, "error", json::object()), "message");
    const bool not_replicated =
        (a.status == 404 || a.status == 400) && method != "GET" && made_objects_ &&
        (message.find("does not exist") != std::string::npos ||
         message.find("does not reference a valid application object") != std::string::npos);

    if (!not_replicated || attempt == 5) break;
    sleep_(wait);
    wait = std::min(wait * 2, std::chrono::milliseconds(8000));
  }
  if (a.ok()) return a.body;
  Status s = a.ToStatus(what);
  if (a.status == 403) {
    return Status::PermissionDenied(
        s.message() +
        " — the signed-in account lacks the rights for this: sign in as a Global Administrator "
        "or Privileged Role Administrator");
  }
  return s;
}

void TenantSetup::Change(const std::string& text) {
  report_->changes.push_back(text);
  made_objects_ = made_objects_ || !dry_run_;
}

Result<bool> TenantSetup::MayGrantConsent(std::vector<std::string>* roles) {
  Result<std::vector<json>> member_of =
      // Transitive: a role held through a role-assignable group counts.
      graph_.ListPages("/v1.0/me/transitiveMemberOf", "reading the signed-in account's roles");
  if (!member_of.ok()) return member_of.status();
  bool may = false;
  for (const json& m : *member_of) {
    if (StringMember(m, "@odata.type") != "#microsoft.graph.directoryRole") continue;
    roles->push_back(StringMember(m, "displayName"));
    const std::string id = StringMember(m, "roleTemplateId");
    may = may || id == kGlobalAdministrator || id == kPrivilegedRoleAdministrator;
  }
  return may;
}

Status TenantSetup::Run(bool dry_run, SetupReport* report) {
  dry_run_ = dry_run;
  report_ = report;
  if (options_.public_url.empty()) {
    return Status::InvalidArgument(
        "PublicUrl is not set: the app registration's redirect URI is made from it (set PublicUrl "
        "in the configuration or pass --public-url)");
  }
  // Graph's service principal lists its application permissions with their ids.
  Result<std::vector<json>> graph_sp = graph_.ListPages(
      "/v1.0/servicePrincipals?" + Eq("appId", kGraphAppId), "reading Microsoft Graph's app roles");
  if (!graph_sp.ok()) return graph_sp.status();
  if (graph_sp->empty()) return Status::NotFound("Microsoft Graph's service principal is missing");
  graph_sp_id_ = StringMember(graph_sp->front(), "id");
  GraphRoles roles;
  const json app_roles = MemberOr(graph_sp->front(), "appRoles", json::array());
  for (const json& r : app_roles.is_array() ? app_roles : json::array()) {
    if (r.is_object()) roles.ids[StringMember(r, "value")] = StringMember(r, "id");
  }
  for (const AppPermission& p : RequiredAppPermissions()) {
    if (!roles.ids.contains(p.name)) {
      return Status::NotFound(std::string("Microsoft Graph offers no permission ") + p.name);
    }
  }
  if (Status s = SetUpApplication(roles); !s.ok()) return s;
  if (Status s = SetUpServicePrincipal(); !s.ok()) return s;
  if (Status s = GrantPermissions(roles); !s.ok()) return s;
  for (const auto& [setting, configured, name, profile] :
       {std::tuple{"ApproverSecurityGroup", config_.ApproverSecurityGroup, options_.approver_group,
                   false},
        std::tuple{"ViewerSecurityGroup", config_.ViewerSecurityGroup, options_.viewer_group,
                   false},
        std::tuple{"AuthorizationSecurityGroup", config_.AuthorizationSecurityGroup,
                   options_.users_group, false},
        std::tuple{"AutopilotProfileGroup", config_.AutopilotProfileGroup, options_.profile_group,
                   true}}) {
    if (Status s = SetUpGroup(setting, configured, name, profile); !s.ok()) return s;
  }
  if (Status s = AssignGroupsToApp(); !s.ok()) return s;
  if (Status s = SetUpDeploymentProfile(); !s.ok()) return s;
  if (Status s = options_.use_certificate ? SetUpCertificate() : SetUpSecret(); !s.ok()) return s;

  const std::string app_id = StringMember(app_, "appId");
  report_->settings.emplace_back("ClientId", TomlString(app_id.empty() ? "(new)" : app_id));
  report_->settings.emplace_back("PublicUrl", TomlString(options_.public_url));
  for (const auto& [setting, id] : group_ids_) {
    report_->settings.emplace_back(setting, TomlString(id.empty() ? "(new)" : id));
  }
  report_->settings.emplace_back("UseAutopilotProfileGroup", "true");
  return Status::Ok();
}

json TenantSetup::DesiredApplication(const GraphRoles& roles) const {
  json access = json::array();
  for (const AppPermission& p : RequiredAppPermissions()) {
    access.push_back({{"id", roles.ids.at(p.name)}, {"type", "Role"}});
  }
  return {{"displayName", options_.app_name},
          {"signInAudience", "AzureADMyOrg"},
          {"groupMembershipClaims", "ApplicationGroup"},
          {"web",
           {{"redirectUris", {options_.public_url + "/signin-oidc"}},
            {"logoutUrl", options_.public_url + "/signout-callback-oidc"}}},
          {"requiredResourceAccess",
           {{{"resourceAppId", kGraphAppId}, {"resourceAccess", std::move(access)}}}}};
}

Status TenantSetup::SetUpApplication(const GraphRoles& roles) {
  std::vector<json> found;
  if (!config_.ClientId.empty()) {
    Result<std::vector<json>> by_id = graph_.ListPages(
        "/v1.0/applications?" + Eq("appId", config_.ClientId), "looking for ClientId's app");
    if (!by_id.ok()) return by_id.status();
    if (by_id->empty()) {
      return Status::NotFound("no app registration has ClientId " + config_.ClientId +
                              " in this tenant: correct ClientId, or remove it to have one "
                              "created");
    }
    found = std::move(*by_id);
  } else {
    Result<std::vector<json>> by_name =
        graph_.ListPages("/v1.0/applications?" + Eq("displayName", options_.app_name),
                         "looking for the app registration");
    if (!by_name.ok()) return by_name.status();
    if (by_name->size() > 1) {
      return Status::FailedPrecondition(std::to_string(by_name->size()) +
                                        " app registrations are named \"" + options_.app_name +
                                        "\": set ClientId to the one apm-server uses");
    }
    found = std::move(*by_name);
  }
  const json desired = DesiredApplication(roles);
  if (found.empty()) {
    app_ = json::object();
    Change("create the app registration \"" + options_.app_name + "\" (sign-in for " +
           options_.public_url + ", groups claim: groups assigned to the app)");
    if (dry_run_) return Status::Ok();
    Result<json> made =
        Call("POST", "/v1.0/applications", desired, "creating the app registration");
    if (!made.ok()) return made.status();
    app_ = std::move(*made);
    app_made_ = true;
    return Status::Ok();
  }
  app_ = std::move(found.front());
  // Changes only what apm-server needs; other redirect URIs and permissions stay.
  json patch = json::object();
  json web = MemberOr(app_, "web", json::object());
  json redirects = web.is_object() ? MemberOr(web, "redirectUris", json::array()) : json::array();
  if (!redirects.is_array()) redirects = json::array();
  const std::string redirect = options_.public_url + "/signin-oidc";
  const std::string logout = options_.public_url + "/signout-callback-oidc";
  if (!Contains(redirects, redirect) ||
      (web.is_object() ? StringMember(web, "logoutUrl") : "") != logout) {
    if (!Contains(redirects, redirect)) redirects.push_back(redirect);
    patch["web"] = {{"redirectUris", redirects}, {"logoutUrl", logout}};
    Change("set the app's redirect URI " + redirect + " and sign-out URL " + logout);
  }
  if (StringMember(app_, "groupMembershipClaims") != "ApplicationGroup") {
    patch["groupMembershipClaims"] = "ApplicationGroup";
    Change("limit the app's groups claim to groups assigned to it (ApplicationGroup)");
  }
  json required = MemberOr(app_, "requiredResourceAccess", json::array());
  if (!required.is_array()) required = json::array();
  json* graph_entry = nullptr;
  for (json& r : required) {
    if (r.is_object() && StringMember(r, "resourceAppId") == kGraphAppId) graph_entry = &r;
  }
  if (!graph_entry) {
    required.push_back({{"resourceAppId", kGraphAppId}, {"resourceAccess", json::array()}});
    graph_entry = &required.back();
  }
  json& listed = (*graph_entry)["resourceAccess"];
  if (!listed.is_array()) listed = json::array();
  std::vector<std::string> added;
  for (const AppPermission& p : RequiredAppPermissions()) {
    const std::string& id = roles.ids.at(p.name);
    bool present = std::any_of(listed.begin(), listed.end(), [&](const json& a) {
      return a.is_object() && StringMember(a, "id") == id && StringMember(a, "type") == "Role";
    });
    if (!present) {
      listed.push_back({{"id", id}, {"type", "Role"}});
      added.push_back(p.name);
    }
  }
  if (!added.empty()) {
    patch["requiredResourceAccess"] = required;
    std::string names;
    for (const std::string& n : added) names += (names.empty() ? "" : ", ") + n;
    Change("list the app's Graph permissions " + names);
  }
  if (patch.empty()) {
    report_->kept.push_back("app registration \"" + StringMember(app_, "displayName") + "\" (" +
                            StringMember(app_, "appId") + ")");
    return Status::Ok();
  }
  if (dry_run_) return Status::Ok();
  Result<json> patched = Call("PATCH", "/v1.0/applications/" + StringMember(app_, "id"), patch,
                              "updating the app registration");
  return patched.ok() ? Status::Ok() : patched.status();
}

Status TenantSetup::SetUpServicePrincipal() {
  const std::string app_id = StringMember(app_, "appId");
  if (!app_id.empty() && !app_made_) {
    Result<std::vector<json>> sps = graph_.ListPages(
        "/v1.0/servicePrincipals?" + Eq("appId", app_id), "looking for the app's enterprise app");
    if (!sps.ok()) return sps.status();
    if (!sps->empty()) {
      sp_id_ = StringMember(sps->front(), "id");
      report_->kept.push_back("enterprise app (service principal) " + sp_id_);
      return Status::Ok();
    }
  }
  Change("create the app's enterprise app (service principal)");
  if (dry_run_) return Status::Ok();
  Result<json> made = Call("POST", "/v1.0/servicePrincipals", json{{"appId", app_id}},
                           "creating the enterprise app");
  if (!made.ok()) return made.status();
  sp_id_ = StringMember(*made, "id");
  sp_made_ = true;
  return Status::Ok();
}

Status TenantSetup::GrantPermissions(const GraphRoles& roles) {
  std::vector<std::string> granted;
  if (!sp_id_.empty() && !sp_made_) {
    Result<std::vector<json>> held =
        graph_.ListPages("/v1.0/servicePrincipals/" + sp_id_ + "/appRoleAssignments",
                         "reading the app's granted permissions");
    if (!held.ok()) return held.status();
    for (const json& a : *held) {
      if (StringMember(a, "resourceId") == graph_sp_id_) {
        granted.push_back(StringMember(a, "appRoleId"));
      }
    }
  }
  for (const AppPermission& p : RequiredAppPermissions()) {
    const std::string& id = roles.ids.at(p.name);
    if (std::find(granted.begin(), granted.end(), id) != granted.end()) {
      report_->kept.push_back(std::string("admin consent to ") + p.name);
      continue;
    }
    Change(std::string("grant admin consent to ") + p.name + " (" + p.why + ")");
    if (dry_run_) continue;
    Result<json> made =
        Call("POST", "/v1.0/servicePrincipals/" + graph_sp_id_ + "/appRoleAssignedTo",
             json{{"principalId", sp_id_}, {"resourceId", graph_sp_id_}, {"appRoleId", id}},
             std::string("granting ") + p.name);
    if (!made.ok()) return made.status();
  }
  return Status::Ok();
}

Status TenantSetup::SetUpGroup(const std::string& setting, const std::string& configured,
                               const std::string& name, bool profile_group) {
  json group;
  if (!configured.empty()) {
    GraphClient::Answer a = graph_.Send({.method = "GET",
                                         .url = "/v1.0/groups/" + FormEncode(configured),
                                         .body = std::nullopt,
                                         .idempotent = true,
                                         .retry_429 = true});
    if (a.ok())
      group = a.body;
    else if (a.status != 404 && a.status != 400)
      return a.ToStatus("reading " + setting);
  }
  if (group.is_null()) {
    Result<std::vector<json>> by_name = graph_.ListPages("/v1.0/groups?" + Eq("displayName", name),
                                                         "looking for the group \"" + name + "\"");
    if (!by_name.ok()) return by_name.status();
    if (by_name->size() > 1) {
      return Status::FailedPrecondition(std::to_string(by_name->size()) + " groups are named \"" +
                                        name + "\": set " + setting + " to the one to use");
    }
    if (!by_name->empty()) group = by_name->front();
  }
  if (group.is_object()) {
    const json types = MemberOr(group, "groupTypes", json::array());
    if (profile_group && Contains(types, "DynamicMembership")) {
      return Status::FailedPrecondition(
          "the profile group \"" + StringMember(group, "displayName") +
          "\" is dynamic: apm-server adds devices to it, which needs an assigned group; choose "
          "another name with --profile-group");
    }
    if (group.contains("securityEnabled") && group["securityEnabled"] == false) {
      return Status::FailedPrecondition("the group \"" + StringMember(group, "displayName") +
                                        "\" is not a security group: choose another name");
    }
    group_ids_.emplace_back(setting, StringMember(group, "id"));
    report_->kept.push_back(setting + " \"" + StringMember(group, "displayName") + "\" (" +
                            StringMember(group, "id") + ")");
    return Status::Ok();
  }
  Change("create the security group \"" + name + "\" (" + setting + ")");
  if (dry_run_) {
    group_ids_.emplace_back(setting, "");
    return Status::Ok();
  }
  Result<json> made = Call("POST", "/v1.0/groups",
                           json{{"displayName", name},
                                {"description", "Autopilot Manager: " + setting},
                                {"mailEnabled", false},
                                {"mailNickname", MailNickname(name)},
                                {"securityEnabled", true}},
                           "creating the group \"" + name + "\"");
  if (!made.ok()) return made.status();
  group_ids_.emplace_back(setting, StringMember(*made, "id"));
  return Status::Ok();
}

Status TenantSetup::AssignGroupsToApp() {
  // With groupMembershipClaims "ApplicationGroup", a sign-in carries only groups assigned to
  // the app: the three sign-in groups (never the profile group of devices).
  std::vector<std::string> assigned;
  if (!sp_id_.empty() && !sp_made_) {
    Result<std::vector<json>> held = graph_.ListPages(
        "/v1.0/servicePrincipals/" + sp_id_ + "/appRoleAssignedTo", "reading the app's groups");
    if (!held.ok()) return held.status();
    for (const json& a : *held) assigned.push_back(StringMember(a, "principalId"));
  }
  for (const auto& [setting, id] : group_ids_) {
    if (setting == "AutopilotProfileGroup") continue;
    if (!id.empty() && std::find(assigned.begin(), assigned.end(), id) != assigned.end()) {
      report_->kept.push_back(setting + " assigned to the app");
      continue;
    }
    Change("assign " + setting + " to the app (its members' sign-ins carry it)");
    if (dry_run_) continue;
    Result<json> made =
        Call("POST", "/v1.0/servicePrincipals/" + sp_id_ + "/appRoleAssignedTo",
             json{{"principalId", id}, {"resourceId", sp_id_}, {"appRoleId", kDefaultAccess}},
             "assigning " + setting + " to the app");
    if (!made.ok()) return made.status();
  }
  return Status::Ok();
}

Status TenantSetup::SetUpDeploymentProfile() {
  std::string group_id;
  for (const auto& [setting, id] : group_ids_) {
    if (setting == "AutopilotProfileGroup") group_id = id;
  }
  Result<std::vector<json>> profiles = graph_.ListPages(
      "/beta/deviceManagement/windowsAutopilotDeploymentProfiles?$expand=assignments",
      "reading the Autopilot deployment profiles");
  if (!profiles.ok()) return profiles.status();
  const json* named = nullptr;
  for (const json& p : *profiles) {
    const json assignments = MemberOr(p, "assignments", json::array());
    for (const json& a : assignments.is_array() ? assignments : json::array()) {
      const json target = a.is_object() ? MemberOr(a, "target", json::object()) : json::object();
      if (!group_id.empty() && target.is_object() &&
          StringMember(target, "@odata.type") == "#microsoft.graph.groupAssignmentTarget" &&
          StringMember(target, "groupId") == group_id) {
        report_->kept.push_back("deployment profile \"" + StringMember(p, "displayName") +
                                "\" targets the profile group");
        return Status::Ok();
      }
    }
    if (StringMember(p, "displayName") == options_.deployment_profile) named = &p;
  }
  std::string profile_id = named ? StringMember(*named, "id") : "";
  if (!named) {
    Change("create the deployment profile \"" + options_.deployment_profile +
           "\" (user-driven, Entra join, standard user, privacy and licence pages hidden)");
    if (!dry_run_) {
      Result<json> made =
          Call("POST", "/beta/deviceManagement/windowsAutopilotDeploymentProfiles",
               json{{"@odata.type", "#microsoft.graph.azureADWindowsAutopilotDeploymentProfile"},
                    {"displayName", options_.deployment_profile},
                    {"description", "Created by apm-server setup entra"},
                    {"language", "os-default"},
                    {"extractHardwareHash", false},
                    {"deviceNameTemplate", ""},
                    {"deviceType", "windowsPc"},
                    {"enableWhiteGlove", false},
                    {"outOfBoxExperienceSettings",
                     {{"hidePrivacySettings", true},
                      {"hideEULA", true},
                      {"userType", "standard"},
                      {"deviceUsageType", "singleUser"},
                      {"skipKeyboardSelectionPage", false},
                      {"hideEscapeLink", true}}}},
               "creating the deployment profile");
      if (!made.ok()) return made.status();
      profile_id = StringMember(*made, "id");
    }
  }
  Change("target the profile group with the deployment profile \"" + options_.deployment_profile +
         "\"");
  if (dry_run_) return Status::Ok();
  Result<json> made = Call(
      "POST",
      "/beta/deviceManagement/windowsAutopilotDeploymentProfiles/" + profile_id + "/assignments",
      json{{"target",
            {{"@odata.type", "#microsoft.graph.groupAssignmentTarget"}, {"groupId", group_id}}}},
      "assigning the deployment profile");
  return made.ok() ? Status::Ok() : made.status();
}

Status TenantSetup::SetUpCertificate() {
  const int64_t now = clock_.NowMs();
  std::optional<CertificateFacts> current;
  if (!options_.current_certificate_pem.empty()) {
    Result<CertificateFacts> facts = ReadCertificateFacts(options_.current_certificate_pem);
    if (facts.ok()) current = *facts;
  }
  // Graph shows a certificate's data only when asked for one application's keyCredentials.
  json keys = json::array();
  const std::string object_id = StringMember(app_, "id");
  if (!object_id.empty() && !app_made_) {
    Result<json> read = Call("GET", "/v1.0/applications/" + object_id + "?$select=keyCredentials",
                             std::nullopt, "reading the app's certificates");
    if (!read.ok()) return read.status();
    const json listed = MemberOr(*read, "keyCredentials", json::array());
    if (listed.is_array()) keys = listed;
  }
  for (const json& k : keys) {
    if (current && k.is_object() && StringMember(k, "key") == current->der_base64 &&
        current->end_ms > now + kRenewSecretDays * 86'400'000) {
      report_->kept.push_back("client certificate (ends " +
                              FormatTimestamp(current->end_ms).substr(0, 10) + ")");
      return Status::Ok();
    }
  }
  // An upload replaces all of the app's certificates, so each must be sent again.
  for (const json& k : keys) {
    if (!k.is_object() || StringMember(k, "key").empty()) {
      return Status::FailedPrecondition(
          "the app holds a certificate whose data Graph did not show, and an upload replaces "
          "them all: upload a certificate by hand (Certificates & secrets) and set "
          "ClientCertificateFile and ClientPrivateKeyFile");
    }
  }
  Change("make a certificate valid for " + std::to_string(options_.certificate_days) +
         " days and upload it to the app (its key stays on this machine)");
  report_->certificate_to_make = true;
  if (dry_run_) return Status::Ok();
  // A certificate's common name holds at most 64 characters.
  const std::string common_name =
      options_.app_name.size() <= 64 ? options_.app_name : std::string("apm-server");
  Result<AppCertificate> made = MakeAppCertificate(common_name, options_.certificate_days);
  if (!made.ok()) return made.status();
  Result<CertificateFacts> facts = ReadCertificateFacts(made->certificate_pem);
  if (!facts.ok()) return facts.status();
  keys.push_back({{"type", "AsymmetricX509Cert"},
                  {"usage", "Verify"},
                  {"key", facts->der_base64},
                  {"displayName", "CN=" + common_name}});
  Result<json> patched = Call("PATCH", "/v1.0/applications/" + object_id,
                              json{{"keyCredentials", keys}}, "uploading the certificate");
  if (!patched.ok()) return patched.status();
  report_->new_certificate = std::move(*made);
  return Status::Ok();
}

Status TenantSetup::SetUpSecret() {
  const int64_t now = clock_.NowMs();
  if (!options_.current_secret.empty()) {
    const json secrets = MemberOr(app_, "passwordCredentials", json::array());
    for (const json& s : secrets.is_array() ? secrets : json::array()) {
      const std::string hint = s.is_object() ? StringMember(s, "hint") : "";
      std::optional<int64_t> end = ParseTimestamp(StringMember(s, "endDateTime"));
      if (!hint.empty() && options_.current_secret.starts_with(hint) && end &&
          *end > now + kRenewSecretDays * 86'400'000) {
        report_->kept.push_back("client secret (" + hint + "…, ends " +
                                StringMember(s, "endDateTime").substr(0, 10) + ")");
        return Status::Ok();
      }
    }
  }
  Change("add a client secret valid for " + std::to_string(options_.secret_days) +
         " days (written to the environment file, not apm.toml)");
  if (dry_run_) return Status::Ok();
  Result<json> made =
      Call("POST", "/v1.0/applications/" + StringMember(app_, "id") + "/addPassword",
           json{{"passwordCredential",
                 {{"displayName", "apm-server " + FormatTimestamp(now).substr(0, 10)},
                  {"endDateTime", FormatTimestamp(now + options_.secret_days * 86'400'000)}}}},
           "adding a client secret");
  if (!made.ok()) return made.status();
  report_->new_secret = StringMember(*made, "secretText");
  if (report_->new_secret.empty()) return Status::Internal("Graph returned no secretText");
  return Status::Ok();
}

}  // namespace apm
