// The simulated tenant's repair side: registrations that exist before the simulation (with their
// Intune managed devices), the asynchronous deletion of Autopilot records, and managedDevices.
#include <algorithm>

#include "core/text.h"
#include "tenantsim/graph_model.h"

namespace apm::sim {

using json = nlohmann::json;

namespace {

constexpr int64_t kDayMs = 24LL * 60 * 60 * 1000;

}  // namespace

std::string GraphModel::AddRegisteredDevice(const RegisteredDeviceSpec& spec) {
  std::lock_guard lock(mu_);
  config_.registered_devices.push_back(spec);
  return AddRegisteredDeviceLocked(spec);
}

std::string GraphModel::AddRegisteredDeviceLocked(const RegisteredDeviceSpec& spec) {
  const int64_t now = clock_.NowMs();
  // Registered long before the simulation began: visible and synced from the start of time.
  std::string id;
  CreateDeviceLocked(spec.serial_number, spec.group_tag, spec.manufacturer, spec.model, "",
                     -config_.sync_delay_ms - config_.sync_visible_delay_ms, &id);
  AutopilotDevice& d = devices_[id];
  d.purchase_order_id = spec.purchase_order_id;
  d.upn = spec.user_principal_name;
  d.addressable_user_name = spec.user_principal_name;
  d.last_contacted_ms = now - spec.last_contacted_days_ago * kDayMs;
  if (auto e = entra_.find(d.entra_object_id); e != entra_.end()) {
    e->second.display_name =
        spec.managed_device_name.empty() ? spec.serial_number : spec.managed_device_name;
  }
  if (!spec.managed_device_name.empty()) {
    ManagedDevice m;
    m.id = NewGuidLocked();
    m.name = spec.managed_device_name;
    m.serial = spec.serial_number;
    m.aad_device_id = d.aad_device_id;
    m.autopilot_id = d.id;
    m.upn = spec.user_principal_name;
    m.enrolled_ms = now - 400 * kDayMs;
    m.last_sync_ms = d.last_contacted_ms;
    d.managed_device_id = m.id;
    managed_[m.id] = std::move(m);
  }
  return id;
}

std::optional<ApiError> GraphModel::DeleteAutopilotDevice(const std::string& id) {
  std::lock_guard lock(mu_);
  AutopilotDevice* d = FindVisibleLocked(id);
  if (!d) {
    return ApiError{404, "ResourceNotFound",
                    "windowsAutopilotDeviceIdentity " + id + " was not found."};
  }
  if (config_.refuse_delete_while_managed && managed_.contains(d->managed_device_id)) {
    return ApiError{400, "BadRequest",
                    "The device is enrolled in Intune (managed device " + d->managed_device_id +
                        "): delete the managed device first."};
  }
  ++stats_.autopilot_deletes_by_serial[d->serial];
  if (d->gone_ms < 0)
    d->gone_ms = clock_.NowMs() + std::max<int64_t>(0, config_.autopilot_delete_delay_ms);
  // A serial seeded by registered_serials is no longer registered once its record is gone.
  std::erase_if(config_.registered_serials,
                [&](const std::string& s) { return EqualsIgnoreCase(s, d->serial); });
  return std::nullopt;
}

json GraphModel::ManagedJsonLocked(const ManagedDevice& m) const {
  return {{"@odata.type", "#microsoft.graph.managedDevice"},
          {"id", m.id},
          {"deviceName", m.name},
          {"serialNumber", m.serial},
          {"azureADDeviceId", m.aad_device_id},
          {"userPrincipalName", m.upn},
          {"operatingSystem", "Windows"},
          {"managedDeviceOwnerType", "company"},
          {"enrolledDateTime", FormatTimestamp(m.enrolled_ms)},
          {"lastSyncDateTime", FormatTimestamp(m.last_sync_ms)},
          {"autopilotEnrolled", true}};
}

std::vector<json> GraphModel::ListManagedDevices() const {
  std::lock_guard lock(mu_);
  std::vector<json> out;
  for (const auto& [id, m] : managed_) out.push_back(ManagedJsonLocked(m));
  return out;
}

std::optional<json> GraphModel::GetManagedDevice(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = managed_.find(id);
  if (it == managed_.end()) return std::nullopt;
  return ManagedJsonLocked(it->second);
}

bool GraphModel::DeleteManagedDevice(const std::string& id) {
  std::lock_guard lock(mu_);
  auto it = managed_.find(id);
  if (it == managed_.end()) return false;
  ++stats_.managed_device_deletes_by_serial[it->second.serial];
  if (auto d = devices_.find(it->second.autopilot_id); d != devices_.end()) {
    d->second.managed_device_id.clear();
  }
  managed_.erase(it);
  return true;
}

}  // namespace apm::sim
