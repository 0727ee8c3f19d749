// The simulated tenant's Entra side: devices, groups, their members and users' memberships.
#include "core/text.h"
#include "tenantsim/graph_model.h"

namespace apm::sim {

using json = nlohmann::json;

namespace {

ApiError NotFoundError(const std::string& id) {
  return {404, "Request_ResourceNotFound",
          "Resource '" + id +
              "' does not exist or one of its queried reference-property objects are not "
              "present."};
}

ApiError AlreadyMemberError() {
  return {400, "Request_BadRequest",
          "One or more added object references already exist for the following modified "
          "properties: 'members'."};
}

}  // namespace

json GraphModel::EntraJsonLocked(const EntraDevice& e) const {
  return {
      {"id", e.object_id},
      {"deletedDateTime", nullptr},
      {"accountEnabled", false},
      {"approximateLastSignInDateTime", nullptr},
      {"deviceId", e.device_id},
      {"displayName", e.display_name},
      {"isCompliant", nullptr},
      {"isManaged", nullptr},
      {"manufacturer", nullptr},
      {"model", nullptr},
      {"operatingSystem", "Windows"},
      {"operatingSystemVersion", ""},
      {"physicalIds", {"[ZTDId]:" + e.ztd_id, "[OrderID]:" + e.group_tag, "[PurchaseOrderId]:"}},
      {"profileType", nullptr},
      {"systemLabels", json::array()},
      {"trustType", nullptr},
      {"enrollmentProfileName", nullptr}};
}

std::vector<json> GraphModel::ListDevices() const {
  std::lock_guard lock(mu_);
  int64_t now = clock_.NowMs();
  std::vector<json> out;
  for (const auto& [id, e] : entra_) {
    if (now >= e.visible_ms) out.push_back(EntraJsonLocked(e));
  }
  return out;
}

std::optional<json> GraphModel::GetDevice(const std::string& object_id) const {
  std::lock_guard lock(mu_);
  auto it = entra_.find(object_id);
  if (it == entra_.end() || clock_.NowMs() < it->second.visible_ms) return std::nullopt;
  return EntraJsonLocked(it->second);
}

namespace {

json GroupJson(const std::string& id, const std::string& name, bool security_enabled,
               bool dynamic) {
  std::string nickname;
  for (char c : name) {
    if (std::isalnum(static_cast<unsigned char>(c))) nickname.push_back(c);
  }
  json group = {{"id", id},
                {"deletedDateTime", nullptr},
                {"description", nullptr},
                {"displayName", name},
                {"groupTypes", dynamic ? json::array({"DynamicMembership"}) : json::array()},
                {"mailEnabled", false},
                {"mailNickname", nickname.empty() ? "group" : nickname},
                {"securityEnabled", security_enabled}};
  if (dynamic) {
    group["membershipRule"] = "(device.devicePhysicalIds -any (_ -eq \"[OrderID]:Kiosk\"))";
    group["membershipRuleProcessingState"] = "On";
  }
  return group;
}

}  // namespace

std::vector<json> GraphModel::ListGroups() const {
  std::lock_guard lock(mu_);
  std::vector<json> out;
  for (const auto& [id, g] : groups_) {
    out.push_back(GroupJson(g.id, g.display_name, g.security_enabled, g.dynamic));
  }
  return out;
}

std::optional<json> GraphModel::GetGroup(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = groups_.find(id);
  if (it == groups_.end()) return std::nullopt;
  return GroupJson(it->second.id, it->second.display_name, it->second.security_enabled,
                   it->second.dynamic);
}

json GraphModel::MemberJsonLocked(const std::string& object_id) const {
  if (auto e = entra_.find(object_id); e != entra_.end()) {
    json j = {{"@odata.type", "#microsoft.graph.device"}};
    j.update(EntraJsonLocked(e->second));
    return j;
  }
  if (auto u = users_.find(object_id); u != users_.end()) {
    return {{"@odata.type", "#microsoft.graph.user"},
            {"id", u->second.id},
            {"displayName", u->second.display_name},
            {"userPrincipalName", u->second.upn}};
  }
  if (auto g = groups_.find(object_id); g != groups_.end()) {
    json j = {{"@odata.type", "#microsoft.graph.group"}};
    j.update(GroupJson(g->second.id, g->second.display_name, g->second.security_enabled,
                       g->second.dynamic));
    return j;
  }
  return {{"@odata.type", "#microsoft.graph.directoryObject"}, {"id", object_id}};
}

std::optional<std::vector<json>> GraphModel::ListGroupMembers(const std::string& group_id) const {
  std::lock_guard lock(mu_);
  auto it = groups_.find(group_id);
  if (it == groups_.end()) return std::nullopt;
  std::vector<json> out;
  for (const Member& m : it->second.members) out.push_back(MemberJsonLocked(m.object_id));
  // Graph pages members by object id; the route layer pages by "id".
  std::sort(out.begin(), out.end(), [](const json& a, const json& b) {
    return a["id"].get<std::string>() < b["id"].get<std::string>();
  });
  return out;
}

bool GraphModel::ObjectExistsLocked(const std::string& object_id) const {
  if (auto e = entra_.find(object_id); e != entra_.end()) {
    return clock_.NowMs() >= e->second.visible_ms;
  }
  return users_.contains(object_id) || groups_.contains(object_id);
}

std::optional<ApiError> GraphModel::AddMembers(const std::string& group_id,
                                               const std::vector<std::string>& object_ids) {
  std::lock_guard lock(mu_);
  auto it = groups_.find(group_id);
  if (it == groups_.end()) return NotFoundError(group_id);
  Group& g = it->second;
  std::set<std::string> adding;
  for (const std::string& oid : object_ids) {
    if (!ObjectExistsLocked(oid)) return NotFoundError(oid);
    bool member = std::any_of(g.members.begin(), g.members.end(),
                              [&](const Member& m) { return m.object_id == oid; });
    if (member || !adding.insert(oid).second) return AlreadyMemberError();
  }
  int64_t now = clock_.NowMs();
  for (const std::string& oid : object_ids) g.members.push_back(Member{oid, now});
  return std::nullopt;
}

std::optional<ApiError> GraphModel::RemoveMember(const std::string& group_id,
                                                 const std::string& object_id) {
  std::lock_guard lock(mu_);
  auto it = groups_.find(group_id);
  if (it == groups_.end()) return NotFoundError(group_id);
  size_t removed =
      std::erase_if(it->second.members, [&](const Member& m) { return m.object_id == object_id; });
  if (removed == 0) return NotFoundError(object_id);
  return std::nullopt;
}

std::optional<std::vector<std::string>> GraphModel::MemberObjects(
    const std::string& user, bool security_enabled_only) const {
  std::lock_guard lock(mu_);
  const User* found = nullptr;
  for (const auto& [id, u] : users_) {
    if (EqualsIgnoreCase(id, user) || EqualsIgnoreCase(u.upn, user)) found = &u;
  }
  if (!found) return std::nullopt;
  // Transitive: groups of the user, then groups containing those groups, and so on.
  std::set<std::string> reached;
  std::vector<std::string> frontier = {found->id};
  while (!frontier.empty()) {
    std::vector<std::string> next;
    for (const auto& [gid, g] : groups_) {
      if (reached.contains(gid)) continue;
      for (const Member& m : g.members) {
        if (std::find(frontier.begin(), frontier.end(), m.object_id) != frontier.end()) {
          reached.insert(gid);
          next.push_back(gid);
          break;
        }
      }
    }
    frontier = std::move(next);
  }
  std::vector<std::string> out;
  for (const std::string& gid : reached) {
    if (!security_enabled_only || groups_.at(gid).security_enabled) out.push_back(gid);
  }
  return out;
}

}  // namespace apm::sim
