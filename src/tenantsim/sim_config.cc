// The simulator's settings as JSON: what /_sim/config reads and writes.
#include <algorithm>
#include <iterator>

#include "core/text.h"
#include "tenantsim/graph_model.h"

namespace apm::sim {

using json = nlohmann::json;

Result<RegisteredDeviceSpec> RegisteredDeviceFromJson(const json& j) {
  if (!j.is_object()) return Status::InvalidArgument("a registered device must be a JSON object");
  RegisteredDeviceSpec spec;
  const std::pair<const char*, std::string*> texts[] = {
      {"serialNumber", &spec.serial_number},
      {"manufacturer", &spec.manufacturer},
      {"model", &spec.model},
      {"groupTag", &spec.group_tag},
      {"purchaseOrderIdentifier", &spec.purchase_order_id},
      {"userPrincipalName", &spec.user_principal_name},
      {"managedDeviceName", &spec.managed_device_name}};
  // Named, not structured bindings: lambdas below use them (clang 14 cannot capture those).
  for (const auto& item : j.items()) {
    const std::string& key = item.key();
    const json& field = item.value();
    auto text = std::find_if(std::begin(texts), std::end(texts),
                             [&](const auto& t) { return key == t.first; });
    if (text != std::end(texts)) {
      if (!field.is_string()) return Status::InvalidArgument(key + " must be a string");
      *text->second = field.get<std::string>();
    } else if (key == "lastContactedDaysAgo") {
      if (!field.is_number_integer() || field.get<int64_t>() < 0) {
        return Status::InvalidArgument(key + " must be a non-negative integer");
      }
      spec.last_contacted_days_ago = field.get<int64_t>();
    } else {
      return Status::InvalidArgument("unknown registered device key " + key);
    }
  }
  if (Trim(spec.serial_number).empty()) {
    return Status::InvalidArgument("a registered device needs a serialNumber");
  }
  return spec;
}

json RegisteredDeviceToJson(const RegisteredDeviceSpec& spec) {
  return {{"serialNumber", spec.serial_number},
          {"manufacturer", spec.manufacturer},
          {"model", spec.model},
          {"groupTag", spec.group_tag},
          {"purchaseOrderIdentifier", spec.purchase_order_id},
          {"userPrincipalName", spec.user_principal_name},
          {"managedDeviceName", spec.managed_device_name},
          {"lastContactedDaysAgo", spec.last_contacted_days_ago}};
}

namespace {

// The keys of the repair scenarios; nullopt when `key` is not one of them.
std::optional<Status> ApplyRepairKey(const std::string& key, const json& v, SimConfig& c) {
  if (key == "autopilotDeleteDelayMs") {
    if (!v.is_number_integer() || v.get<int64_t>() < 0)
      return Status::InvalidArgument(key + " must be a non-negative integer");
    c.autopilot_delete_delay_ms = v.get<int64_t>();
    return Status::Ok();
  }
  if (key == "refuseDeleteWhileManaged" || key == "deletingRecordBlocksImport") {
    if (!v.is_boolean()) return Status::InvalidArgument(key + " must be true or false");
    (key == "refuseDeleteWhileManaged" ? c.refuse_delete_while_managed
                                       : c.deleting_record_blocks_import) = v.get<bool>();
    return Status::Ok();
  }
  if (key == "registeredDevices") {
    if (!v.is_array()) return Status::InvalidArgument(key + " must be an array of objects");
    std::vector<RegisteredDeviceSpec> specs;
    for (const json& item : v) {
      Result<RegisteredDeviceSpec> spec = RegisteredDeviceFromJson(item);
      if (!spec.ok()) return spec.status();
      specs.push_back(std::move(*spec));
    }
    c.registered_devices = std::move(specs);
    return Status::Ok();
  }
  return std::nullopt;
}

}  // namespace

Status ApplyConfigJson(const json& patch, SimConfig& config) {
  if (!patch.is_object()) return Status::InvalidArgument("config must be a JSON object");
  SimConfig c = config;
  for (const auto& item : patch.items()) {
    const std::string& key = item.key();
    const json& v = item.value();
    auto as_ms = [&](int64_t& field) -> Status {
      if (!v.is_number_integer() || v.get<int64_t>() < 0)
        return Status::InvalidArgument(key + " must be a non-negative integer");
      field = v.get<int64_t>();
      return Status::Ok();
    };
    auto as_rate = [&](double& field) -> Status {
      if (!v.is_number() || v.get<double>() < 0 || v.get<double>() > 1)
        return Status::InvalidArgument(key + " must be a number from 0 to 1");
      field = v.get<double>();
      return Status::Ok();
    };
    auto as_set = [&](std::set<std::string>& field) -> Status {
      if (!v.is_array()) return Status::InvalidArgument(key + " must be an array of strings");
      std::set<std::string> out;
      for (const json& e : v) {
        if (!e.is_string()) return Status::InvalidArgument(key + " must be an array of strings");
        out.insert(e.get<std::string>());
      }
      field = std::move(out);
      return Status::Ok();
    };
    int64_t n = 0;
    Status s;
    if (key == "importDelayMs") {
      s = as_ms(c.import_delay_ms);
    } else if (key == "syncVisibleDelayMs") {
      s = as_ms(c.sync_visible_delay_ms);
    } else if (key == "syncDelayMs") {
      s = as_ms(c.sync_delay_ms);
    } else if (key == "profileDelayMs") {
      s = as_ms(c.profile_delay_ms);
    } else if (key == "throttleWindowMs") {
      s = as_ms(c.throttle_window_ms);
    } else if (key == "slowMs") {
      s = as_ms(c.slow_ms);
    } else if (key == "syncCooldownMs") {
      s = as_ms(c.sync_cooldown_ms);
    } else if (key == "writeLimit" || key == "requestLimit" || key == "directoryWriteLimit" ||
               key == "directoryRequestLimit") {
      s = as_ms(n);
      (key == "writeLimit"            ? c.write_limit
       : key == "requestLimit"        ? c.request_limit
       : key == "directoryWriteLimit" ? c.directory_write_limit
                                      : c.directory_request_limit) = int(n);
    } else if (key == "pageSize" || key == "maxImportBatch") {
      s = as_ms(n);
      if (s.ok() && n == 0) s = Status::InvalidArgument(key + " must be at least 1");
      (key == "pageSize" ? c.page_size : c.max_import_batch) = size_t(n);
    } else if (key == "seed") {
      s = as_ms(n);
      c.seed = uint64_t(n);
    } else if (key == "errorRate") {
      s = as_rate(c.error_rate);
    } else if (key == "lostResponseRate") {
      s = as_rate(c.lost_response_rate);
    } else if (key == "dropRate") {
      s = as_rate(c.drop_rate);
    } else if (key == "slowRate") {
      s = as_rate(c.slow_rate);
    } else if (key == "otherTenantSerials") {
      s = as_set(c.other_tenant_serials);
    } else if (key == "registeredSerials") {
      s = as_set(c.registered_serials);
    } else if (std::optional<Status> repair = ApplyRepairKey(key, v, c)) {
      s = *repair;
    } else {
      s = Status::InvalidArgument("unknown config key " + key);
    }
    if (!s.ok()) return s;
  }
  config = std::move(c);
  return Status::Ok();
}

json ConfigToJson(const SimConfig& c) {
  return {{"importDelayMs", c.import_delay_ms},
          {"syncVisibleDelayMs", c.sync_visible_delay_ms},
          {"syncDelayMs", c.sync_delay_ms},
          {"profileDelayMs", c.profile_delay_ms},
          {"otherTenantSerials", c.other_tenant_serials},
          {"registeredSerials", c.registered_serials},
          {"registeredDevices",
           [&] {
             json list = json::array();
             for (const RegisteredDeviceSpec& spec : c.registered_devices) {
               list.push_back(RegisteredDeviceToJson(spec));
             }
             return list;
           }()},
          {"autopilotDeleteDelayMs", c.autopilot_delete_delay_ms},
          {"refuseDeleteWhileManaged", c.refuse_delete_while_managed},
          {"deletingRecordBlocksImport", c.deleting_record_blocks_import},
          {"profileGroupId", c.profile_group_id},
          {"profileGroupName", c.profile_group_name},
          {"writeLimit", c.write_limit},
          {"requestLimit", c.request_limit},
          {"directoryWriteLimit", c.directory_write_limit},
          {"directoryRequestLimit", c.directory_request_limit},
          {"throttleWindowMs", c.throttle_window_ms},
          {"errorRate", c.error_rate},
          {"lostResponseRate", c.lost_response_rate},
          {"dropRate", c.drop_rate},
          {"slowRate", c.slow_rate},
          {"slowMs", c.slow_ms},
          {"seed", c.seed},
          {"pageSize", c.page_size},
          {"maxImportBatch", c.max_import_batch},
          {"syncCooldownMs", c.sync_cooldown_ms},
          {"adminEnabled", c.admin_enabled}};
}

GraphModel::GraphModel(const Clock& clock, SimConfig config)
    : clock_(clock), config_(std::move(config)) {
  std::lock_guard lock(mu_);
  SeedLocked();
}

}  // namespace apm::sim
