#include "tenantsim/graph_model.h"

#include <algorithm>
#include <cstdio>

#include "core/base64.h"
#include "core/guid.h"
#include "core/hardware_hash.h"
#include "core/text.h"

namespace apm::sim {
namespace {

using json = nlohmann::json;

// DDS has no documented code for a hash repeated within one upload; 805 is free in the 801-814
// table, so the simulator uses it (our choice, not Microsoft's).
constexpr int kDuplicatedCode = 805;
constexpr const char* kNeverText = "0001-01-01T00:00:00Z";
constexpr const char* kZeroGuid = "00000000-0000-0000-0000-000000000000";
constexpr const char* kSettingsId = "4b3a1f0e-7c6d-4e5f-8a9b-0c1d2e3f4a5b";
constexpr const char* kDefaultProfileId = "8d5b2e7a-61c4-4f0e-9a3b-2c7d1e4f6a80";
// How long a manual sync runs before windowsAutopilotSettings reports it completed.
constexpr int64_t kSyncRunMs = 60'000;

bool ContainsIgnoreCase(const std::set<std::string>& set, const std::string& value) {
  for (const std::string& s : set) {
    if (EqualsIgnoreCase(s, value)) return true;
  }
  return false;
}

int64_t CeilSeconds(int64_t ms) {
  return std::max<int64_t>(1, (ms + 999) / 1000);
}

}  // namespace

SimConfig GraphModel::config() const {
  std::lock_guard lock(mu_);
  return config_;
}

void GraphModel::SetConfig(SimConfig config) {
  std::lock_guard lock(mu_);
  config.profile_group_id = config_.profile_group_id;
  config.profile_group_name = config_.profile_group_name;
  bool reseed = config.seed != config_.seed;
  config_ = std::move(config);
  if (reseed) {
    fault_rng_.seed(config_.seed);
    id_rng_.seed(config_.seed ^ 0x9e3779b97f4a7c15ULL);
  }
}

void GraphModel::Reset() {
  std::lock_guard lock(mu_);
  imports_.clear();
  devices_.clear();
  managed_.clear();
  identities_.clear();
  entra_.clear();
  windows_.clear();
  stats_ = SimStats();
  last_sync_ms_ = -1;
  for (auto& [id, g] : groups_) {
    std::erase_if(g.members, [&](const Member& m) {
      return !users_.contains(m.object_id) && !groups_.contains(m.object_id);
    });
  }
  SeedLocked();
}

void GraphModel::SeedLocked() {
  fault_rng_.seed(config_.seed);
  id_rng_.seed(config_.seed ^ 0x9e3779b97f4a7c15ULL);
  // Fixed for the model's lifetime: profile_group_id() is read without the lock.
  if (profile_group_id_.empty()) {
    if (config_.profile_group_id.empty()) config_.profile_group_id = NewGuidLocked();
    profile_group_id_ = config_.profile_group_id;
  }
  if (!config_.empty_tenant && !groups_.contains(profile_group_id_)) {
    groups_[profile_group_id_] = Group{
        profile_group_id_, config_.profile_group_name, true, {}, config_.profile_group_dynamic};
  }
  if (!config_.empty_tenant && profiles_.empty()) {
    DeploymentProfile& p = profiles_[kDefaultProfileId];
    p.body = {{"@odata.type", "#microsoft.graph.azureADWindowsAutopilotDeploymentProfile"},
              {"id", kDefaultProfileId},
              {"displayName", "Autopilot Manager default profile"},
              {"deviceNameTemplate", ""}};
    if (config_.profile_assigned) p.group_ids.push_back(profile_group_id_);
  }
  for (const std::string& serial : config_.registered_serials) {
    std::string ignored;
    // Registered before the simulation began: visible and synced from the start of time.
    CreateDeviceLocked(serial, "", "Simulated Manufacturer", "Preregistered Model", "",
                       -config_.sync_delay_ms - config_.sync_visible_delay_ms, &ignored);
  }
  for (const RegisteredDeviceSpec& spec : config_.registered_devices) {
    AddRegisteredDeviceLocked(spec);
  }
}

std::string GraphModel::NewGuid() {
  std::lock_guard lock(mu_);
  return NewGuidLocked();
}

std::string GraphModel::NewGuidLocked() {
  uint64_t hi = id_rng_(), lo = id_rng_();
  std::array<uint8_t, 16> b;
  for (int i = 0; i < 8; ++i) {
    b[size_t(i)] = uint8_t(hi >> (56 - 8 * i));
    b[size_t(8 + i)] = uint8_t(lo >> (56 - 8 * i));
  }
  return FormatGuidV4(b);
}

std::string GraphModel::AddGroup(const std::string& display_name, bool security_enabled,
                                 const std::string& id) {
  std::lock_guard lock(mu_);
  std::string gid = id.empty() ? NewGuidLocked() : id;
  Group& g = groups_[gid];
  g.id = gid;
  g.display_name = display_name;
  g.security_enabled = security_enabled;
  return gid;
}

void GraphModel::SetDirectoryRoles(const std::string& user_id, std::vector<std::string> roles) {
  std::lock_guard lock(mu_);
  if (auto u = users_.find(user_id); u != users_.end())
    u->second.directory_roles = std::move(roles);
}

std::vector<std::string> GraphModel::DirectoryRoles(const std::string& user_id) const {
  std::lock_guard lock(mu_);
  auto u = users_.find(user_id);
  return u == users_.end() ? std::vector<std::string>{} : u->second.directory_roles;
}

std::string GraphModel::AddUser(const std::string& upn, const std::string& display_name,
                                const std::string& id) {
  std::lock_guard lock(mu_);
  std::string uid = id.empty() ? NewGuidLocked() : id;
  users_[uid] = User{uid, upn, display_name};
  return uid;
}

std::optional<ApiError> GraphModel::AddMember(const std::string& group_id,
                                              const std::string& object_id) {
  return AddMembers(group_id, {object_id});
}

void GraphModel::CreateDeviceLocked(const std::string& serial, const std::string& group_tag,
                                    const std::string& manufacturer, const std::string& model,
                                    const std::string& product_key, int64_t completed_ms,
                                    std::string* device_id) {
  AutopilotDevice d;
  d.id = NewGuidLocked();
  d.serial = serial;
  d.group_tag = group_tag;
  d.manufacturer = manufacturer;
  d.model = model;
  d.product_key = product_key;
  d.completed_ms = completed_ms;
  d.visible_ms = completed_ms + config_.sync_visible_delay_ms;
  d.synced_ms = completed_ms + std::max(config_.sync_delay_ms, config_.sync_visible_delay_ms);
  d.aad_device_id = NewGuidLocked();
  d.entra_object_id = NewGuidLocked();
  entra_[d.entra_object_id] =
      EntraDevice{d.entra_object_id, d.aad_device_id, serial, d.id, group_tag, d.synced_ms};
  *device_id = d.id;
  devices_[d.id] = std::move(d);
}

bool GraphModel::SerialRegisteredLocked(const std::string& serial) const {
  if (ContainsIgnoreCase(config_.registered_serials, serial)) return true;
  int64_t now = clock_.NowMs();
  for (const auto& [id, d] : devices_) {
    const bool gone = d.gone_ms >= 0 && now >= d.gone_ms;
    const bool deleting = d.gone_ms >= 0 && !gone;
    if (deleting && !config_.deleting_record_blocks_import) continue;
    if (!gone && EqualsIgnoreCase(d.serial, serial)) return true;
  }
  return false;
}

bool GraphModel::VisibleLocked(const AutopilotDevice& d) const {
  const int64_t now = clock_.NowMs();
  return now >= d.visible_ms && (d.gone_ms < 0 || now < d.gone_ms);
}

GraphModel::AutopilotDevice* GraphModel::FindVisibleLocked(const std::string& id) {
  auto it = devices_.find(id);
  return it != devices_.end() && VisibleLocked(it->second) ? &it->second : nullptr;
}

const GraphModel::AutopilotDevice* GraphModel::FindVisibleLocked(const std::string& id) const {
  auto it = devices_.find(id);
  return it != devices_.end() && VisibleLocked(it->second) ? &it->second : nullptr;
}

std::vector<json> GraphModel::Import(const std::vector<ImportInput>& inputs) {
  std::lock_guard lock(mu_);
  int64_t now = clock_.NowMs();
  std::string import_id = NewGuidLocked();
  std::set<std::string> seen_hashes;
  std::vector<json> out;
  for (const ImportInput& in : inputs) {
    ImportRecord r;
    r.id = NewGuidLocked();
    r.import_id = import_id;
    r.serial = in.serial_number;
    r.group_tag = in.group_tag;
    r.product_key = in.product_key;
    r.hardware_identifier = in.hardware_identifier;
    r.upn = in.assigned_user_principal_name;
    r.complete_ms = now + config_.import_delay_ms;

    Result<std::string> blob = Base64Decode(in.hardware_identifier);
    std::optional<HardwareHashInfo> info;
    if (blob.ok()) {
      Result<HardwareHashInfo> decoded = DecodeHardwareHash(*blob);
      if (decoded.ok()) info = std::move(*decoded);
    }
    std::string serial = Trim(in.serial_number);
    if (serial.empty() && info) serial = info->serial;
    bool first_of_hash = seen_hashes.insert(in.hardware_identifier).second;
    if (!info || info->manufacturer.empty() || info->serial.empty()) {
      r.error_code = 802;
      r.error_name = "InvalidZtdHardwareHash";
    } else if (!first_of_hash) {
      r.error_code = kDuplicatedCode;
      r.error_name = "ZtdDeviceDuplicated";
    } else if (ContainsIgnoreCase(config_.other_tenant_serials, serial)) {
      r.error_code = 808;
      r.error_name = "ZtdDeviceAssignedToOtherTenant";
    } else if (SerialRegisteredLocked(serial)) {
      r.error_code = 806;
      r.error_name = "ZtdDeviceAlreadyAssigned";
    } else {
      CreateDeviceLocked(serial, in.group_tag, info->manufacturer, info->model, in.product_key,
                         r.complete_ms, &r.device_id);
      AutopilotDevice& d = devices_[r.device_id];
      d.sku = info->sku;
      d.family = info->family;
      d.upn = in.assigned_user_principal_name;
    }
    ++stats_.imports_by_serial[serial];
    out.push_back(ImportJsonLocked(r));
    imports_[r.id] = std::move(r);
  }
  return out;
}

json GraphModel::ImportJsonLocked(const ImportRecord& r) const {
  int64_t now = clock_.NowMs();
  json state = {{"@odata.type", "microsoft.graph.importedWindowsAutopilotDeviceIdentityState"},
                {"deviceImportStatus", "unknown"},
                {"deviceRegistrationId", ""},
                {"deviceErrorCode", 0},
                {"deviceErrorName", ""}};
  if (now >= r.complete_ms) {
    if (r.error_code != 0) {
      state["deviceImportStatus"] = "error";
      state["deviceErrorCode"] = r.error_code;
      state["deviceErrorName"] = r.error_name;
    } else {
      state["deviceImportStatus"] = "complete";
      state["deviceRegistrationId"] = r.device_id;
    }
  }
  return {{"@odata.type", "#microsoft.graph.importedWindowsAutopilotDeviceIdentity"},
          {"id", r.id},
          {"groupTag", r.group_tag},
          {"serialNumber", r.serial},
          {"productKey", r.product_key},
          {"importId", r.import_id},
          {"hardwareIdentifier", r.hardware_identifier},
          {"state", state},
          {"assignedUserPrincipalName", r.upn}};
}

std::optional<json> GraphModel::GetImport(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = imports_.find(id);
  if (it == imports_.end()) return std::nullopt;
  return ImportJsonLocked(it->second);
}

std::vector<json> GraphModel::ListImports() const {
  std::lock_guard lock(mu_);
  std::vector<json> out;
  for (const auto& [id, r] : imports_) out.push_back(ImportJsonLocked(r));
  return out;
}

bool GraphModel::DeleteImport(const std::string& id) {
  std::lock_guard lock(mu_);
  return imports_.erase(id) > 0;
}

std::string GraphModel::ProfileStatusLocked(const AutopilotDevice& d, int64_t* assigned_ms) const {
  int64_t now = clock_.NowMs();
  if (now < d.synced_ms) return "notAssigned";
  // The device gets a profile through a group some deployment profile targets.
  std::optional<int64_t> joined;
  for (const auto& [id, profile] : profiles_) {
    for (const std::string& group_id : profile.group_ids) {
      auto g = groups_.find(group_id);
      if (g == groups_.end()) continue;
      for (const Member& m : g->second.members) {
        if (m.object_id == d.entra_object_id && (!joined || m.added_ms < *joined)) {
          joined = m.added_ms;
        }
      }
    }
  }
  if (!joined) return "notAssigned";
  int64_t at = std::max(*joined, d.synced_ms) + config_.profile_delay_ms;
  if (now < at) return "pending";
  if (assigned_ms) *assigned_ms = at;
  return "assignedInSync";
}

json GraphModel::AutopilotJsonLocked(const AutopilotDevice& d, bool beta) const {
  bool synced = clock_.NowMs() >= d.synced_ms;
  std::string aad = synced ? d.aad_device_id : "";
  json j = {{"@odata.type", "#microsoft.graph.windowsAutopilotDeviceIdentity"},
            {"id", d.id},
            {"groupTag", d.group_tag},
            {"purchaseOrderIdentifier", d.purchase_order_id},
            {"serialNumber", d.serial},
            {"productKey", d.product_key},
            {"manufacturer", d.manufacturer},
            {"model", d.model},
            {"enrollmentState", d.managed_device_id.empty() ? "notContacted" : "enrolled"},
            {"lastContactedDateTime",
             d.last_contacted_ms >= 0 ? FormatTimestamp(d.last_contacted_ms) : kNeverText},
            {"addressableUserName", d.addressable_user_name},
            {"userPrincipalName", d.upn},
            {"resourceName", ""},
            {"skuNumber", d.sku},
            {"systemFamily", d.family},
            {"azureActiveDirectoryDeviceId", aad},
            {"managedDeviceId", d.managed_device_id.empty() ? kZeroGuid : d.managed_device_id},
            {"displayName", d.display_name}};
  if (beta) {
    int64_t assigned_ms = -1;
    j["deploymentProfileAssignmentStatus"] = ProfileStatusLocked(d, &assigned_ms);
    j["deploymentProfileAssignmentDetailedStatus"] = "none";
    j["deploymentProfileAssignedDateTime"] =
        assigned_ms >= 0 ? FormatTimestamp(assigned_ms) : kNeverText;
    j["azureAdDeviceId"] = aad;
    j["deviceAccountUpn"] = "";
    j["deviceAccountPassword"] = "";
    j["deviceFriendlyName"] = "";
    j["remediationState"] = "unknown";
    j["remediationStateLastModifiedDateTime"] = kNeverText;
    j["userlessEnrollmentStatus"] = "unknown";
  }
  return j;
}

std::optional<json> GraphModel::GetAutopilotDevice(const std::string& id, bool beta) const {
  std::lock_guard lock(mu_);
  const AutopilotDevice* d = FindVisibleLocked(id);
  if (!d) return std::nullopt;
  return AutopilotJsonLocked(*d, beta);
}

std::vector<json> GraphModel::ListAutopilotDevices(bool beta) const {
  std::lock_guard lock(mu_);
  std::vector<json> out;
  for (const auto& [id, d] : devices_) {
    if (VisibleLocked(d)) out.push_back(AutopilotJsonLocked(d, beta));
  }
  return out;
}

bool GraphModel::AssignUser(const std::string& id, const std::string& upn,
                            const std::string& addressable) {
  std::lock_guard lock(mu_);
  AutopilotDevice* d = FindVisibleLocked(id);
  if (!d) return false;
  d->upn = upn;
  d->addressable_user_name = addressable;
  return true;
}

bool GraphModel::UnassignUser(const std::string& id) {
  return AssignUser(id, "", "");
}

bool GraphModel::UpdateDeviceProperties(const std::string& id, const json& props) {
  std::lock_guard lock(mu_);
  AutopilotDevice* found = FindVisibleLocked(id);
  if (!found) return false;
  AutopilotDevice& d = *found;
  auto set = [&](const char* key, std::string& field) {
    auto v = props.find(key);
    if (v != props.end() && v->is_string()) field = v->get<std::string>();
  };
  set("displayName", d.display_name);
  set("groupTag", d.group_tag);
  set("userPrincipalName", d.upn);
  set("addressableUserName", d.addressable_user_name);
  // Entra's [OrderID] follows the group tag, so dynamic groups see the change.
  if (auto e = entra_.find(d.entra_object_id); e != entra_.end()) e->second.group_tag = d.group_tag;
  return true;
}

std::optional<ApiError> GraphModel::Sync() {
  std::lock_guard lock(mu_);
  int64_t now = clock_.NowMs();
  if (last_sync_ms_ >= 0 && now - last_sync_ms_ < config_.sync_cooldown_ms) {
    ++stats_.sync_refused;
    int64_t wait = last_sync_ms_ + config_.sync_cooldown_ms - now;
    return ApiError{429, "TooManyRequests",
                    "A sync was requested less than 10 minutes ago; try again later.",
                    int(CeilSeconds(wait))};
  }
  last_sync_ms_ = now;
  return std::nullopt;
}

json GraphModel::AutopilotSettings() const {
  std::lock_guard lock(mu_);
  int64_t now = clock_.NowMs();
  json j = {{"@odata.type", "#microsoft.graph.windowsAutopilotSettings"},
            {"id", kSettingsId},
            {"lastSyncDateTime", kNeverText},
            {"lastManualSyncTriggerDateTime", kNeverText},
            {"syncStatus", "unknown"}};
  if (last_sync_ms_ >= 0) {
    j["lastManualSyncTriggerDateTime"] = FormatTimestamp(last_sync_ms_);
    if (now >= last_sync_ms_ + kSyncRunMs) {
      j["lastSyncDateTime"] = FormatTimestamp(last_sync_ms_ + kSyncRunMs);
      j["syncStatus"] = "completed";
    } else {
      j["syncStatus"] = "inProgress";
    }
  }
  return j;
}

std::optional<int> GraphModel::Throttle(const std::string& client_id, bool intune, bool is_write) {
  std::lock_guard lock(mu_);
  int write_limit = intune ? config_.write_limit : config_.directory_write_limit;
  int request_limit = intune ? config_.request_limit : config_.directory_request_limit;
  if (write_limit <= 0 && request_limit <= 0) return std::nullopt;
  int64_t now = clock_.NowMs();
  Window& w = windows_[client_id + (intune ? "|intune" : "|directory")];
  int64_t horizon = now - config_.throttle_window_ms;
  while (!w.all.empty() && w.all.front() <= horizon) w.all.pop_front();
  while (!w.writes.empty() && w.writes.front() <= horizon) w.writes.pop_front();
  // A slot frees when the entry `limit` places from the end leaves the window.
  int64_t wait = 0;
  auto full = [&](const std::deque<int64_t>& q, int limit) {
    if (limit <= 0 || q.size() < size_t(limit)) return;
    wait = std::max(wait, q[q.size() - size_t(limit)] + config_.throttle_window_ms - now);
  };
  full(w.all, request_limit);
  if (is_write) full(w.writes, write_limit);
  if (wait > 0) {
    ++stats_.throttled;
    return int(CeilSeconds(wait));
  }
  w.all.push_back(now);
  if (is_write) w.writes.push_back(now);
  return std::nullopt;
}

FaultDecision GraphModel::DrawFault(bool allow_connection_faults) {
  std::lock_guard lock(mu_);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  double which = unit(fault_rng_), kind = unit(fault_rng_), slow = unit(fault_rng_);
  FaultDecision d;
  double edge = config_.drop_rate;
  if (which < edge) {
    d.fault = Fault::kDropBeforeEffect;
  } else if (which < (edge += config_.error_rate)) {
    d.fault = kind < 0.5 ? Fault::kStatus500 : Fault::kStatus503;
  } else if (which < edge + config_.lost_response_rate) {
    d.fault = Fault::kLostResponse;
  }
  if (!allow_connection_faults &&
      (d.fault == Fault::kDropBeforeEffect || d.fault == Fault::kLostResponse)) {
    d.fault = Fault::kNone;
  }
  switch (d.fault) {
    case Fault::kStatus500:
      ++stats_.faults_500;
      break;
    case Fault::kStatus503:
      ++stats_.faults_503;
      break;
    case Fault::kDropBeforeEffect:
      ++stats_.dropped;
      break;
    case Fault::kLostResponse:
      ++stats_.lost;
      break;
    case Fault::kNone:
      break;
  }
  if (slow < config_.slow_rate && config_.slow_ms > 0) {
    d.delay_ms = config_.slow_ms;
    ++stats_.slow;
  }
  return d;
}

void GraphModel::CountRequest(const std::string& route_key) {
  std::lock_guard lock(mu_);
  ++stats_.requests[route_key];
}

SimStats GraphModel::Stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

int64_t GraphModel::ImportCount(const std::string& serial) const {
  std::lock_guard lock(mu_);
  auto it = stats_.imports_by_serial.find(serial);
  return it == stats_.imports_by_serial.end() ? 0 : it->second;
}

std::vector<AutopilotDeviceView> GraphModel::Devices() const {
  std::lock_guard lock(mu_);
  int64_t now = clock_.NowMs();
  std::vector<AutopilotDeviceView> out;
  for (const auto& [id, d] : devices_) {
    if (d.gone_ms >= 0 && now >= d.gone_ms) continue;
    bool synced = now >= d.synced_ms;
    int64_t assigned_ms = -1;
    std::string profile = ProfileStatusLocked(d, &assigned_ms);
    out.push_back(AutopilotDeviceView{
        d.id, d.serial, d.group_tag, synced ? d.aad_device_id : "", synced ? d.entra_object_id : "",
        profile, d.display_name, d.upn, d.purchase_order_id, d.managed_device_id,
        now >= d.visible_ms, d.gone_ms >= 0, d.completed_ms <= now ? d.completed_ms : -1,
        synced ? d.synced_ms : -1, assigned_ms});
  }
  return out;
}

std::vector<std::string> GraphModel::GroupMemberIds(const std::string& group_id) const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  auto it = groups_.find(group_id);
  if (it == groups_.end()) return out;
  for (const Member& m : it->second.members) out.push_back(m.object_id);
  return out;
}

}  // namespace apm::sim
