// The simulated tenant's Windows Autopilot deployment profiles and the groups they target.
#include <algorithm>

#include "server/clock.h"
#include "tenantsim/graph_model.h"

namespace apm::sim {

using json = nlohmann::json;

json GraphModel::ProfileJsonLocked(const std::string& id, const DeploymentProfile& p) const {
  json out = p.body;
  json assignments = json::array();
  for (const std::string& group_id : p.group_ids) {
    assignments.push_back(
        {{"id", id + "_" + group_id},
         {"target",
          {{"@odata.type", "#microsoft.graph.groupAssignmentTarget"}, {"groupId", group_id}}}});
  }
  out["assignments"] = std::move(assignments);
  return out;
}

std::vector<json> GraphModel::DeploymentProfiles() const {
  std::lock_guard lock(mu_);
  std::vector<json> out;
  for (const auto& [id, p] : profiles_) out.push_back(ProfileJsonLocked(id, p));
  return out;
}

std::variant<json, ApiError> GraphModel::CreateDeploymentProfile(const json& body) {
  if (!body.is_object() || !body.contains("displayName") || !body["displayName"].is_string() ||
      body["displayName"].get<std::string>().empty()) {
    return ApiError{400, "BadRequest", "The profile's displayName is required."};
  }
  const std::string type = body.value("@odata.type", json()).is_string()
                               ? body["@odata.type"].get<std::string>()
                               : std::string();
  if (type != "#microsoft.graph.azureADWindowsAutopilotDeploymentProfile" &&
      type != "#microsoft.graph.activeDirectoryWindowsAutopilotDeploymentProfile") {
    return ApiError{400, "BadRequest",
                    "An @odata.type of azureADWindowsAutopilotDeploymentProfile or "
                    "activeDirectoryWindowsAutopilotDeploymentProfile is required."};
  }
  std::lock_guard lock(mu_);
  const std::string id = NewGuidLocked();
  const std::string now = FormatTimestamp(clock_.NowMs());
  DeploymentProfile& p = profiles_[id];
  p.body = body;
  p.body["id"] = id;
  p.body["createdDateTime"] = now;
  p.body["lastModifiedDateTime"] = now;
  p.body.erase("assignments");
  json out = p.body;
  out.erase("assignments");
  return out;
}

std::variant<json, ApiError> GraphModel::AssignDeploymentProfile(const std::string& profile_id,
                                                                 const std::string& group_id) {
  std::lock_guard lock(mu_);
  auto p = profiles_.find(profile_id);
  if (p == profiles_.end()) {
    return ApiError{404, "ResourceNotFound", "No deployment profile with id " + profile_id + "."};
  }
  if (!groups_.contains(group_id)) {
    return ApiError{400, "BadRequest", "The target group " + group_id + " does not exist."};
  }
  std::vector<std::string>& targets = p->second.group_ids;
  if (std::find(targets.begin(), targets.end(), group_id) == targets.end()) {
    targets.push_back(group_id);
  }
  return json{{"id", profile_id + "_" + group_id},
              {"target",
               {{"@odata.type", "#microsoft.graph.groupAssignmentTarget"}, {"groupId", group_id}}}};
}

std::optional<std::vector<json>> GraphModel::DeploymentProfileAssignments(
    const std::string& profile_id) const {
  std::lock_guard lock(mu_);
  auto p = profiles_.find(profile_id);
  if (p == profiles_.end()) return std::nullopt;
  std::vector<json> out;
  for (json& a : ProfileJsonLocked(profile_id, p->second)["assignments"]) out.push_back(a);
  return out;
}

}  // namespace apm::sim
