// What `apm-server setup entra` does in the tenant, with the signed-in admin's rights: the app
// registration (redirect and sign-out URIs for PublicUrl, the groups claim limited to groups
// assigned to the app, Graph's application permissions with admin consent, a client secret),
// its enterprise app, the approver, viewer, general-access and profile groups, and a
// deployment profile that targets the profile group. Each part is read first and changed only
// when it differs from what apm-server needs, so a second run changes nothing.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "server/clock.h"
#include "server/config.h"
#include "server/graph/graph_client.h"
#include "server/setup/app_certificate.h"

namespace apm {

struct SetupOptions {
  std::string app_name = "Autopilot Manager";
  std::string public_url;  // required: the redirect URIs are made from it
  std::string approver_group = "Autopilot Approvers";
  std::string viewer_group = "Autopilot Viewers";
  std::string users_group = "Autopilot Users";
  std::string profile_group = "Autopilot Profile Devices";
  // Created (user-driven, Entra join) when no profile targets the profile group and none has
  // this name.
  std::string deployment_profile = "Autopilot Manager";
  int64_t secret_days = 365;
  std::string current_secret;  // the configured ClientSecret; "" when none
  // A certificate instead of a secret: made (RSA, self-signed) and uploaded unless the
  // configured one (`current_certificate_pem`) is on the app and ends in more than 30 days.
  bool use_certificate = false;
  std::string current_certificate_pem;
  int64_t certificate_days = 365;
};

struct SetupReport {
  std::vector<std::string> changes;  // made; for a dry run, to be made
  std::vector<std::string> kept;     // already as needed
  // apm.toml settings: key and TOML literal.
  std::vector<std::pair<std::string, std::string>> settings;
  std::string new_secret;  // "" : the configured ClientSecret stays right
  // A certificate is (for a dry run: would be) made; its key goes to a new file.
  bool certificate_to_make = false;
  // Empty unless a certificate was made and uploaded: its key is to be written.
  AppCertificate new_certificate;
};

// The Graph application permissions apm-server's features need, with why (one place for the
// set-up and its documentation).
struct AppPermission {
  const char* name;
  const char* why;
};
const std::vector<AppPermission>& RequiredAppPermissions();
// The delegated scopes the admin signs in with.
inline constexpr const char* kSetupScopes =
    "Application.ReadWrite.All AppRoleAssignment.ReadWrite.All Group.ReadWrite.All "
    "DeviceManagementServiceConfig.ReadWrite.All Directory.Read.All User.Read";

class TenantSetup {
 public:
  using Sleep = std::function<void(std::chrono::milliseconds)>;
  // `config` is the configuration as it is (ClientId and group settings name what to reuse);
  // `graph` carries the admin's token; `sleep` waits for Graph's replication (tests: none).
  TenantSetup(const Config& config, SetupOptions options, GraphClient& graph, const Clock& clock,
              Sleep sleep = {});

  // Whether the signed-in admin holds a role that grants Graph's application permissions
  // (Global Administrator or Privileged Role Administrator, directly or through a group; an
  // eligible PIM role counts once activated), and the roles found.
  Result<bool> MayGrantConsent(std::vector<std::string>* roles);
  // Reads the tenant and, unless `dry_run`, changes what differs. An error stops it; `report`
  // then holds what was done before.
  Status Run(bool dry_run, SetupReport* report);

 private:
  struct GraphRoles;
  Result<nlohmann::json> Call(const std::string& method, const std::string& url,
                              std::optional<nlohmann::json> body, const std::string& what);
  void Change(const std::string& text);  // records a change
  Status SetUpApplication(const GraphRoles& roles);
  Status SetUpServicePrincipal();
  Status GrantPermissions(const GraphRoles& roles);
  // `configured`: the setting's current value (a group id), reused when the group exists.
  Status SetUpGroup(const std::string& setting, const std::string& configured,
                    const std::string& name, bool profile_group);
  Status AssignGroupsToApp();
  Status SetUpDeploymentProfile();
  Status SetUpSecret();
  Status SetUpCertificate();
  nlohmann::json DesiredApplication(const GraphRoles& roles) const;

  const Config& config_;
  SetupOptions options_;
  GraphClient& graph_;
  const Clock& clock_;
  Sleep sleep_;
  bool dry_run_ = false;
  bool made_objects_ = false;  // this run created something (replication may lag)
  bool app_made_ = false;      // the app registration is new: it holds nothing yet
  bool sp_made_ = false;       // so is its service principal
  SetupReport* report_ = nullptr;
  nlohmann::json app_;       // the registration as read or created
  std::string sp_id_;        // its service principal ("" : not yet, in a dry run)
  std::string graph_sp_id_;  // Microsoft Graph's service principal
  std::vector<std::pair<std::string, std::string>> group_ids_;  // setting -> id ("" : new)
};

}  // namespace apm
