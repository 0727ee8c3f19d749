// App registrations and service principals of the simulated tenant, as Graph's applications,
// servicePrincipals and appRoleAssignments routes change them (`apm-server setup entra`).
#include <algorithm>

#include "server/random_guid.h"
#include "tenantsim/identity.h"

namespace apm::sim {

const std::vector<GraphAppRole>& GraphAppRoles() {
  static const std::vector<GraphAppRole> kRoles = {
      {"DeviceManagementServiceConfig.ReadWrite.All", "5ac13192-7ace-4fcf-b828-1a26f28068ee"},
      {"DeviceManagementServiceConfig.Read.All", "06a5fe6d-c49d-46a7-b082-56b1b14103c7"},
      {"DeviceManagementManagedDevices.ReadWrite.All", "243333ab-4d21-40cb-a475-36241daa0842"},
      {"DeviceManagementManagedDevices.Read.All", "2f51be20-0bb4-4fed-bf7b-db946066c75e"},
      {"Device.Read.All", "7438b122-aefc-4978-80ed-43db9fcc7715"},
      {"Group.Read.All", "5b567255-7703-4780-807c-7be8301ae99b"},
      {"GroupMember.Read.All", "98830695-27a2-44f7-8c18-0c3ebc9698f6"},
      {"GroupMember.ReadWrite.All", "dbaae8cf-10b5-4b86-a4a1-f871c94c6695"},
      {"Group.ReadWrite.All", "62a82d76-70ea-41e2-9197-370581804d09"},
      {"User.Read.All", "df021288-bdef-4463-88db-98f22de89214"},
      {"Application.Read.All", "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30"},
      {"Directory.Read.All", "7ab1d382-f21e-4acd-a863-ba3e13f7da61"},
      {"AppRoleAssignment.ReadWrite.All", "06b708a9-e830-4db3-a914-8e69da51d44f"},
  };
  return kRoles;
}

std::string Identity::NewGuid() {
  return RandomGuid();
}

SimApp* Identity::FindApplicationLocked(const std::string& object_id) {
  for (auto& [id, app] : apps_) {
    if (!app.object_id.empty() && app.object_id == object_id) return &app;
  }
  return nullptr;
}

SimApp Identity::CreateApplication(const std::function<void(SimApp&)>& fill) {
  SimApp app;
  app.client_id = NewGuid();
  app.object_id = NewGuid();
  app.group_claims = false;
  app.group_membership_claims = "";
  app.created_ms = clock_.NowMs();
  fill(app);
  std::lock_guard lock(mu_);
  apps_[app.client_id] = app;
  return app;
}

std::optional<SimApp> Identity::FindApplication(const std::string& object_id) {
  std::lock_guard lock(mu_);
  SimApp* app = FindApplicationLocked(object_id);
  if (!app) return std::nullopt;
  return *app;
}

bool Identity::UpdateApplication(const std::string& object_id,
                                 const std::function<void(SimApp&)>& edit) {
  std::lock_guard lock(mu_);
  SimApp* app = FindApplicationLocked(object_id);
  if (!app) return false;
  edit(*app);
  return true;
}

std::optional<SimPassword> Identity::AddPassword(const std::string& object_id,
                                                 const std::string& display_name, int64_t end_ms) {
  // Entra's secrets: 40 characters, the first three shown as the hint.
  std::string secret;
  while (secret.size() < 40) {
    for (char c : NewGuid()) {
      if (c != '-' && secret.size() < 40) secret.push_back(c);
    }
  }
  secret[3] = '~';
  SimPassword password{NewGuid(), display_name, secret, clock_.NowMs(), end_ms};
  std::lock_guard lock(mu_);
  SimApp* app = FindApplicationLocked(object_id);
  if (!app) return std::nullopt;
  app->passwords.push_back(password);
  return password;
}

Identity::Created Identity::CreateServicePrincipal(const std::string& app_id, std::string* id) {
  if (app_id == kGraphAppId) return Created::kExists;
  const std::string new_id = NewGuid();
  std::lock_guard lock(mu_);
  auto app = apps_.find(app_id);
  if (app == apps_.end()) return Created::kNoSuchApp;
  if (!app->second.service_principal_id.empty()) return Created::kExists;
  app->second.service_principal_id = new_id;
  app->second.service_principal_created_ms = clock_.NowMs();
  *id = new_id;
  return Created::kCreated;
}

void Identity::set_replication_delay_ms(int64_t ms) {
  std::lock_guard lock(mu_);
  replication_delay_ms_ = ms;
}

std::optional<SimApp> Identity::AppOfServicePrincipal(const std::string& sp_id) {
  std::lock_guard lock(mu_);
  for (const auto& [id, app] : apps_) {
    if (!app.service_principal_id.empty() && app.service_principal_id == sp_id) return app;
  }
  return std::nullopt;
}

std::variant<SimAssignment, std::string> Identity::GrantGraphRole(const std::string& principal_id,
                                                                  const std::string& app_role_id) {
  const auto& roles = GraphAppRoles();
  auto role = std::find_if(roles.begin(), roles.end(),
                           [&](const GraphAppRole& r) { return app_role_id == r.id; });
  if (role == roles.end()) {
    return std::string("Permission being assigned was not found on application");
  }
  std::string assignment_id = NewGuid();
  std::lock_guard lock(mu_);
  for (auto& [id, app] : apps_) {
    if (app.service_principal_id.empty() || app.service_principal_id != principal_id) continue;
    if (clock_.NowMs() < app.service_principal_created_ms + replication_delay_ms_) break;
    for (const SimAssignment& a : app.granted) {
      if (a.app_role_id == app_role_id) {
        return std::string("Permission being assigned already exists on the object");
      }
    }
    SimAssignment a{assignment_id,
                    principal_id,
                    "ServicePrincipal",
                    app.display_name,
                    kGraphServicePrincipalId,
                    "Microsoft Graph",
                    app_role_id,
                    clock_.NowMs()};
    app.granted.push_back(a);
    if (std::find(app.roles.begin(), app.roles.end(), role->value) == app.roles.end()) {
      app.roles.push_back(role->value);
    }
    return a;
  }
  return std::string("Resource '" + principal_id +
                     "' does not exist or one of its queried reference-property objects are not "
                     "present.");
}

std::variant<SimAssignment, std::string> Identity::AssignToApp(const std::string& sp_id,
                                                               const std::string& principal_id,
                                                               const std::string& principal_type,
                                                               const std::string& principal_name) {
  std::string assignment_id = NewGuid();
  std::lock_guard lock(mu_);
  for (auto& [id, app] : apps_) {
    if (app.service_principal_id.empty() || app.service_principal_id != sp_id) continue;
    if (clock_.NowMs() < app.service_principal_created_ms + replication_delay_ms_) break;
    for (const SimAssignment& a : app.assigned) {
      if (a.principal_id == principal_id) {
        return std::string("Permission being assigned already exists on the object");
      }
    }
    SimAssignment a{assignment_id, principal_id,     principal_type,       principal_name,
                    sp_id,         app.display_name, kDefaultAccessRoleId, clock_.NowMs()};
    app.assigned.push_back(a);
    return a;
  }
  return std::string("Resource '" + sp_id +
                     "' does not exist or one of its queried reference-property objects are not "
                     "present.");
}

}  // namespace apm::sim
