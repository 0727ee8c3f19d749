#include "server/doctor/doctor.h"

#include <algorithm>
#include <cstdlib>
#include <set>

#include "core/http_date.h"
#include "server/auth/oidc_client.h"
#include "server/graph/token_claims.h"
#include "server/graph_settings.h"
#include "server/json_text.h"

namespace apm {
namespace {

using json = nlohmann::json;

constexpr char kNoSuchId[] = "00000000-0000-0000-0000-000000000000";

// What an Entra ID refusal of a token request means, by its AADSTS code, and what to do.
std::string TokenFix(const std::string& message) {
  auto has = [&](const char* code) { return message.find(code) != std::string::npos; };
  if (has("AADSTS7000215")) {
    return "the client secret is wrong: copy the secret's Value (not its ID) from the app "
           "registration's Certificates & secrets into APM_CLIENT_SECRET";
  }
  if (has("AADSTS7000222")) {
    return "the client secret has expired: add a new one under Certificates & secrets and set "
           "APM_CLIENT_SECRET";
  }
  if (has("AADSTS700016")) {
    return "ClientId names no application in this tenant: copy the Application (client) ID of "
           "the app registration";
  }
  if (has("AADSTS90002") || has("AADSTS900023")) {
    return "TenantId names no tenant: copy the Directory (tenant) ID";
  }
  if (has("AADSTS700027") || has("AADSTS700021")) {
    return "the certificate has ended (see \"client certificate\") or is not the app's: upload "
           "ClientCertificateFile under Certificates & secrets → Certificates";
  }
  return "check TenantId, ClientId and the secret or certificate (docs/operations.md §1)";
}

// A read of `url` (relative to GraphEndpoint).
GraphClient::Call Get(std::string url) {
  GraphClient::Call call;
  call.url = std::move(url);
  return call;
}

// A Graph call's outcome as a permission check: granted, missing, or not known.
struct Probe {
  std::string permission;
  std::string what;  // the feature that needs it
  GraphClient::Call call;
  std::vector<std::string> also;  // broader permissions that serve as well
};

// The application permissions in the token's `roles` claim when the token is a JWT we can
// read (Entra's Graph tokens are); nullopt otherwise, and the probes decide alone. Nothing
// is verified: the claim only explains, Graph decides.
std::optional<std::set<std::string>> TokenRoles(const std::string& token) {
  std::optional<json> claims = UnverifiedJwtClaims(token);
  if (!claims) return std::nullopt;
  std::set<std::string> roles;
  const json list = claims->value("roles", json::array());
  for (const json& r : list.is_array() ? list : json::array()) {
    if (r.is_string()) roles.insert(r.get<std::string>());
  }
  return roles;
}

// "X.Read.All" for "X.ReadWrite.All".
std::string ReadHalf(const std::string& permission) {
  std::string read = permission;
  if (size_t at = read.find(".ReadWrite."); at != std::string::npos) {
    read.replace(at, 11, ".Read.");
  }
  return read;
}

}  // namespace

bool DoctorReport::failed() const {
  return std::any_of(findings.begin(), findings.end(),
                     [](const Finding& f) { return f.verdict == DoctorVerdict::kFailed; });
}

Doctor::Doctor(const Config& config, OutboundHttp& graph_http, OutboundHttp& public_http,
               const Clock& clock)
    : config_(config), graph_http_(graph_http), public_http_(public_http), clock_(clock) {}

void Doctor::Add(std::string check, DoctorVerdict verdict, std::string text, std::string fix) {
  report_.findings.push_back({std::move(check), verdict, std::move(text), std::move(fix)});
}

DoctorReport Doctor::Run() {
  report_ = {};
  report_.settings = DescribeSettings(config_);
  CheckRequiredSettings();
  if (config_.graph_configured()) {
    CheckEndpoint(
        "login endpoint",
        config_.LoginEndpoint + "/" + config_.TenantId + "/v2.0/.well-known/openid-configuration",
        graph_http_, "LoginEndpoint");
    const bool graph_reached = CheckEndpoint("graph endpoint", config_.GraphEndpoint + "/v1.0/",
                                             graph_http_, "GraphEndpoint");
    if (!cancelled_) CheckGraph(graph_reached);
  }
  // A stopped run's findings are thrown away: nothing more is sent once Stop() was called.
  if (config_.sign_in_configured() && !cancelled_) CheckSignIn();
  if (!cancelled_) CheckPublicUrl();
  return std::move(report_);
}

void Doctor::Stop() {
  std::lock_guard lock(stop_mu_);
  cancelled_ = true;
  if (client_) client_->Stop();
}

void Doctor::CheckRequiredSettings() {
  size_t from_file = 0, from_env = 0, from_command_line = 0;
  for (const auto& [key, source] : config_.sources) {
    if (source == "command line") {
      ++from_command_line;
    } else {
      (source.starts_with("APM_") ? from_env : from_file) += 1;
    }
  }
  Add("settings", DoctorVerdict::kOk,
      std::to_string(from_file) + " set in the file, " + std::to_string(from_env) +
          " in the environment, " + std::to_string(from_command_line) +
          " on the command line, the rest default (listed below)");
  if (!config_.graph_configured()) {
    Add("graph", DoctorVerdict::kFailed, "TenantId is not set: no device can be imported",
        "set TenantId (the Directory (tenant) ID) and ClientId in apm.toml");
    return;
  }
  if (config_.ClientId.empty()) {
    Add("graph", DoctorVerdict::kFailed, "ClientId is not set",
        "set ClientId to the app registration's Application (client) ID");
  }
  if (config_.ClientSecret.empty() && config_.ClientCertificateFile.empty()) {
    Add("graph", DoctorVerdict::kFailed, "neither a client secret nor a certificate is set",
        "set APM_CLIENT_SECRET in the service's environment file, or ClientCertificateFile");
  }
}

bool Doctor::CheckEndpoint(const std::string& check, const std::string& url, OutboundHttp& http,
                           const std::string& setting) {
  OutboundRequest request;
  request.url = url;
  request.timeout = std::chrono::seconds(15);
  const int64_t sent_at = clock_.NowMs();
  Result<OutboundResponse> answer = http.Send(request);
  if (!answer.ok()) {
    Add(check, DoctorVerdict::kFailed, "cannot reach " + url + ": " + answer.status().message(),
        "check the name, the firewall and any proxy between this machine and it (" + setting + ")");
    return false;
  }
  std::string text = url + " answers (HTTP " + std::to_string(answer->status) + ")";
  if (answer->status == 400 && answer->body.find("AADSTS90002") != std::string::npos) {
    Add(check, DoctorVerdict::kFailed, "Entra ID knows no tenant " + config_.TenantId,
        "set TenantId to the Directory (tenant) ID of your tenant");
    return true;
  }
  std::optional<std::chrono::system_clock::time_point> date = ParseHttpDate(answer->Header("date"));
  if (!date) {
    Add(check, DoctorVerdict::kOk, text + "; it sent no Date to compare clocks with");
    return true;
  }
  const int64_t theirs =
      std::chrono::duration_cast<std::chrono::milliseconds>(date->time_since_epoch()).count();
  const int64_t ours = (sent_at + clock_.NowMs()) / 2;
  const int64_t skew = (ours - theirs) / 1000;  // its Date has whole seconds
  const std::string skew_text =
      std::to_string(std::llabs(skew)) + " s " + (skew > 0 ? "ahead of" : "behind") + " its clock";
  // Behind: an id_token's nbf is in our future, and sign-in allows SignInClockSkewSeconds.
  const bool sign_in_fails =
      config_.sign_in_configured() && skew < 0 && -skew > config_.SignInClockSkewSeconds;
  if (std::llabs(skew) >= kSkewFailSeconds) {
    Add(check, DoctorVerdict::kFailed, text + "; this machine's clock is " + skew_text,
        "set the clock right (timedatectl set-ntp true): Entra ID refuses tokens and sign-ins "
        "more than 5 minutes off");
  } else if (sign_in_fails) {
    Add(check, DoctorVerdict::kFailed, text + "; this machine's clock is " + skew_text,
        "set the clock right (timedatectl set-ntp true): sign-ins fail, as a new id_token "
        "looks issued in the future beyond SignInClockSkewSeconds (" +
            std::to_string(config_.SignInClockSkewSeconds) + " s)");
  } else if (std::llabs(skew) >= kSkewWarnSeconds) {
    Add(check, DoctorVerdict::kWarning, text + "; this machine's clock is " + skew_text,
        "turn on time synchronisation (timedatectl set-ntp true)");
  } else {
    Add(check, DoctorVerdict::kOk, text + "; clocks agree within a minute");
  }
  return true;
}

void Doctor::CheckGraph(bool graph_reached) {
  // From the file, before the token: an ended certificate is why Entra refuses it.
  if (!config_.ClientCertificateFile.empty()) CheckCertificateExpiry();
  Result<std::unique_ptr<ClientCredentialsTokenSource>> tokens =
      ClientCredentialsTokenSource::Create(GraphCredentials(config_), graph_http_, clock_);
  if (!tokens.ok()) {
    Add("token", DoctorVerdict::kFailed, tokens.status().message(),
        "ClientCertificateFile and ClientPrivateKeyFile must be the PEM certificate and its key");
    return;
  }
  Result<std::string> token = (*tokens)->AccessToken();
  if (!token.ok()) {
    Add("token", DoctorVerdict::kFailed, token.status().message(),
        TokenFix(token.status().message()));
    return;
  }
  Add("token", DoctorVerdict::kOk,
      std::string("a Graph token for app ") + config_.ClientId + " with its " +
          (config_.ClientCertificateFile.empty() ? "client secret" : "certificate"));
  const std::optional<std::set<std::string>> roles = TokenRoles(*token);
  if (!graph_reached) {
    Add("permissions", DoctorVerdict::kWarning, "not checked: Graph cannot be reached (above)");
    return;
  }

  // A read-only call for each application permission the features need: 2xx or 404 (the
  // made-up id) means granted; 401 or 403 means missing.
  std::vector<Probe> probes = {
      {"DeviceManagementServiceConfig.ReadWrite.All",
       "importing devices",
       Get(std::string("/beta/deviceManagement/windowsAutopilotDeviceIdentities/") + kNoSuchId),
       {}},
      {"DeviceManagementManagedDevices.ReadWrite.All",
       "re-registering and removing records",
       Get(std::string("/v1.0/deviceManagement/managedDevices/") + kNoSuchId),
       {}},
      {"Device.Read.All",
       "finding the Entra device of an import",
       Get(std::string("/v1.0/devices?$filter=deviceId%20eq%20'") + kNoSuchId + "'&$select=id"),
       {"Device.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}},
  };
  const bool group = config_.UseAutopilotProfileGroup && !config_.AutopilotProfileGroup.empty();
  if (group) {
    probes.push_back({"GroupMember.ReadWrite.All",
                      "adding devices to AutopilotProfileGroup",
                      Get("/v1.0/groups/" + config_.AutopilotProfileGroup +
                          "?$select=id,displayName,groupTypes,securityEnabled,membershipRule"),
                      {"Group.ReadWrite.All", "Directory.ReadWrite.All"}});
  }
  GraphClient client(GraphClientOptions(config_), graph_http_, **tokens, clock_);
  // Stop() reaches the client while this run uses it.
  struct Registered {
    Doctor& doctor;
    explicit Registered(Doctor& d, GraphClient& c) : doctor(d) {
      std::lock_guard lock(d.stop_mu_);
      if (d.cancelled_) c.Stop();
      d.client_ = &c;
    }
    ~Registered() {
      std::lock_guard lock(doctor.stop_mu_);
      doctor.client_ = nullptr;
    }
  } registered(*this, client);
  // A $batch envelope has one version: the beta probe goes alone, the v1.0 ones together.
  std::vector<GraphClient::Answer> answers = {client.Send(probes.front().call)};
  std::vector<GraphClient::Call> calls;
  for (size_t i = 1; i < probes.size(); ++i) calls.push_back(probes[i].call);
  for (GraphClient::Answer& a : client.SendAll(calls)) answers.push_back(std::move(a));
  for (size_t i = 0; i < probes.size(); ++i) {
    const Probe& p = probes[i];
    const GraphClient::Answer& a = answers[i];
    const std::string check = "permission " + p.permission;
    const std::string consent = "add " + p.permission +
                                " as an application permission of the app registration and "
                                "grant admin consent";
    const bool in_roles = roles && (roles->contains(p.permission) ||
                                    std::any_of(p.also.begin(), p.also.end(), [&](auto& other) {
                                      return roles->contains(other);
                                    }));
    if (roles && !in_roles) {
      // The claim tells what a read cannot: a consent to the Read half only.
      const std::string read = ReadHalf(p.permission);
      Add(check, DoctorVerdict::kFailed,
          read != p.permission && roles->contains(read)
              ? "granted only as " + read + " (the token's roles claim): " + p.what + " fails"
              : "missing from the token's roles claim: " + p.what + " fails",
          consent + " (the next token carries it)");
    } else if (a.ok() || a.status == 404) {
      // Without a readable claim a read proves the read half only: a tenant that consented
      // to a .Read. permission passes here and fails at the first write.
      Add(check, DoctorVerdict::kOk,
          roles ? "granted (the token's roles claim), and a read for " + p.what + " is allowed"
                : "a read for " + p.what + " is allowed (the write half is not tried)");
    } else if (a.status == 401) {
      Add(check, DoctorVerdict::kFailed, "Graph refused the token itself (HTTP 401)",
          "the token is for another cloud or audience: check LoginEndpoint and GraphEndpoint");
    } else if (a.status == 403) {
      Add(check, DoctorVerdict::kFailed, "missing: Graph refused a read for " + p.what, consent);
    } else {
      Add(check, DoctorVerdict::kWarning,
          "not known: " + a.ToStatus("a read for " + p.what).message(),
          "run the doctor again; if it stays, see docs/operations.md §1");
    }
  }
  if (config_.ClientCertificateFile.empty()) CheckSecretExpiry(client);
  CheckSignInGroups(client);
  if (!group) return;
  const GraphClient::Answer& g = answers.back();
  const std::string id = config_.AutopilotProfileGroup;
  if (g.status == 404) {
    Add("profile group", DoctorVerdict::kFailed, "no group has the id " + id,
        "set AutopilotProfileGroup to the Object ID of an assigned security group");
    return;
  }
  if (!g.ok() || !g.body.is_object()) return;  // the permission line says why
  const std::string name =
      StringMember(g.body, "displayName").empty() ? id : StringMember(g.body, "displayName");
  const json types = g.body.value("groupTypes", json::array());
  const bool dynamic =
      types.is_array() && std::any_of(types.begin(), types.end(), [](const json& t) {
        return t.is_string() && t.get<std::string>() == "DynamicMembership";
      });
  if (dynamic) {
    Add("profile group", DoctorVerdict::kFailed,
        "\"" + name +
            "\" is a dynamic group (its members come from a rule): the server cannot "
            "add devices to it",
        "use an assigned security group, and target it with the deployment profile");
  } else if (!(g.body.contains("securityEnabled") && g.body["securityEnabled"].is_boolean() &&
               g.body["securityEnabled"].get<bool>())) {
    Add("profile group", DoctorVerdict::kFailed, "\"" + name + "\" is not a security group",
        "use an assigned security group: profiles are assigned to security groups");
  } else {
    Add("profile group", DoctorVerdict::kOk, "\"" + name + "\" is an assigned security group");
  }
  // Which deployment profiles target it (the profile is what a device in the group receives).
  GraphClient::Answer profiles = client.Send(
      Get("/beta/deviceManagement/windowsAutopilotDeploymentProfiles?$expand=assignments"));
  if (!profiles.ok() || !profiles.body.contains("value") || !profiles.body["value"].is_array()) {
    Add("profile assignment", DoctorVerdict::kWarning,
        "cannot tell which deployment profile targets \"" + name +
            "\": " + profiles.ToStatus("listing deployment profiles").message(),
        "check in Intune that a Windows Autopilot deployment profile is assigned to it");
    return;
  }
  for (const json& profile : profiles.body["value"]) {
    if (!profile.is_object() || !profile.contains("assignments")) continue;
    for (const json& assignment : profile["assignments"]) {
      if (!assignment.is_object() || !assignment.contains("target") ||
          !assignment["target"].is_object()) {
        continue;
      }
      const json& target = assignment["target"];
      const std::string type = StringMember(target, "@odata.type");
      // An exclusion names the group too, and means the opposite; all devices include it.
      const bool includes = type == "#microsoft.graph.allDevicesAssignmentTarget" ||
                            (type != "#microsoft.graph.exclusionGroupAssignmentTarget" &&
                             StringMember(target, "groupId") == id);
      if (includes) {
        Add("profile assignment", DoctorVerdict::kOk,
            "deployment profile \"" + StringMember(profile, "displayName") + "\" targets \"" +
                name + "\"");
        return;
      }
    }
  }
  Add("profile assignment", DoctorVerdict::kFailed,
      "no deployment profile targets \"" + name + "\": imported devices get no profile",
      "in Intune, assign a Windows Autopilot deployment profile to \"" + name + "\"");
}

void Doctor::CheckSignInGroups(GraphClient& client) {
  std::vector<std::pair<std::string, std::string>> groups;  // setting, object id
  for (auto [setting, id] :
       {std::pair{"AuthorizationSecurityGroup", &config_.AuthorizationSecurityGroup},
        {"ApproverSecurityGroup", &config_.ApproverSecurityGroup},
        {"ViewerSecurityGroup", &config_.ViewerSecurityGroup}}) {
    if (!id->empty()) groups.emplace_back(setting, *id);
  }
  std::vector<GraphClient::Call> calls;
  for (const auto& [setting, id] : groups) {
    calls.push_back(Get("/v1.0/groups/" + id + "?$select=id,displayName,securityEnabled"));
  }
  std::vector<GraphClient::Answer> answers = client.SendAll(calls);
  for (size_t i = 0; i < groups.size(); ++i) {
    const auto& [setting, id] = groups[i];
    const GraphClient::Answer& a = answers[i];
    const std::string check = "group " + setting;
    if (a.ok() && a.body.is_object()) {
      const std::string name = StringMember(a.body, "displayName");
      Add(check, DoctorVerdict::kOk, "\"" + (name.empty() ? id : name) + "\"");
    } else if (a.status == 404) {
      Add(check, DoctorVerdict::kFailed, "no group has the id " + id + ": nobody gets this role",
          "set " + setting + " to the Object ID of a security group (Entra ID → Groups)");
    } else {
      Add(check, DoctorVerdict::kWarning,
          "not known: " + a.ToStatus("reading the group").message());
    }
  }
}

void Doctor::CheckSignIn() {
  auth::OidcSettings settings{config_.sign_in_authority(),
                              config_.sign_in_client_id(),
                              config_.sign_in_client_secret(),
                              config_.TenantId,
                              "openid profile",
                              config_.SignInClockSkewSeconds};
  auth::OidcClient oidc(graph_http_, clock_, settings);  // GraphCaFile, as the server's
  Result<auth::ProviderMetadata> metadata = oidc.Metadata();
  if (!metadata.ok()) {
    Add("sign-in", DoctorVerdict::kFailed, metadata.status().message(),
        "SignInAuthority must be the issuer of your tenant, e.g. "
        "https://login.microsoftonline.com/<tenant id>/v2.0");
    return;
  }
  Add("sign-in", DoctorVerdict::kOk, "the sign-in authority's issuer is " + metadata->issuer);
}

std::string_view DoctorVerdictName(DoctorVerdict verdict) {
  switch (verdict) {
    case DoctorVerdict::kOk:
      return "ok";
    case DoctorVerdict::kWarning:
      return "warning";
    case DoctorVerdict::kFailed:
      break;
  }
  return "failed";
}

std::string_view DoctorMark(DoctorVerdict verdict) {
  return verdict == DoctorVerdict::kOk ? "✔" : verdict == DoctorVerdict::kWarning ? "!" : "✘";
}

std::string DoctorText(const DoctorReport& report, bool plain) {
  auto mark = [&](DoctorVerdict v) -> std::string {
    if (!plain) return std::string(DoctorMark(v)) + " ";
    return v == DoctorVerdict::kOk ? "[ok]  " : v == DoctorVerdict::kWarning ? "[warn]" : "[FAIL]";
  };
  std::string out;
  for (const Finding& f : report.findings) {
    out += mark(f.verdict) + " " + f.check + ": " + f.text + "\n";
    if (!f.fix.empty()) out += "       fix: " + f.fix + "\n";
  }
  out += "\nSettings (value, and where it came from):\n";
  for (const SettingView& s : report.settings) {
    out += "  " + s.key + " = " + (s.value.empty() ? "\"\"" : s.value) + "  (" + s.source + ")\n";
  }
  return out;
}

json DoctorJson(const DoctorReport& report) {
  json findings = json::array();
  for (const Finding& f : report.findings) {
    json j = {{"check", f.check}, {"verdict", DoctorVerdictName(f.verdict)}, {"text", f.text}};
    if (!f.fix.empty()) j["fix"] = f.fix;
    findings.push_back(std::move(j));
  }
  json settings = json::array();
  for (const SettingView& s : report.settings) {
    settings.push_back({{"key", s.key}, {"value", s.value}, {"source", s.source}});
  }
  return {{"failed", report.failed()}, {"findings", findings}, {"settings", settings}};
}

}  // namespace apm
