#include "server/importer/registration_check.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "server/graph/graph_resources.h"
#include "server/json_text.h"
#include "server/logging.h"

namespace apm {

using json = nlohmann::json;

std::string RegistrationCheckJson(const RegistrationCheck& check) {
  json found = json::array();
  for (const FoundRegistration& f : check.found) {
    json item = AutopilotDeviceJson(f.device);
    if (f.managed) item["managedDevice"] = ManagedDeviceJson(*f.managed);
    found.push_back(std::move(item));
  }
  json out = {{"checkedAt", check.checked_at}, {"found", std::move(found)}};
  if (!check.error.empty()) out["error"] = check.error;
  return JsonText(out);
}

RegistrationCheck ParseRegistrationCheck(std::string_view text) {
  RegistrationCheck check;
  json j = json::parse(text, nullptr, false);
  if (!j.is_object() || !j.contains("checkedAt") || !j["checkedAt"].is_number_integer()) {
    return check;
  }
  check.checked_at = j["checkedAt"].get<int64_t>();
  check.error = StringMember(j, "error");
  if (j.contains("found") && j["found"].is_array()) {
    for (const json& item : j["found"]) {
      FoundRegistration f;
      f.device = AutopilotDeviceFromJson(item);
      if (item.contains("managedDevice") && item["managedDevice"].is_object()) {
        f.managed = ManagedDeviceFromJson(item["managedDevice"]);
      }
      check.found.push_back(std::move(f));
    }
  }
  return check;
}

Result<RegistrationCheck> CheckRegistration(GraphApi& graph, const std::string& serial,
                                            int64_t now_ms) {
  Result<std::vector<AutopilotDevice>> devices = graph.FindAutopilotDevices(serial);
  if (!devices.ok()) return devices.status();
  RegistrationCheck check;
  check.checked_at = now_ms;
  std::vector<std::string> managed_ids;
  for (AutopilotDevice& d : *devices) {
    if (!d.managed_device_id.empty()) managed_ids.push_back(d.managed_device_id);
    check.found.push_back({std::move(d), std::nullopt});
  }
  std::vector<Result<std::optional<ManagedDevice>>> managed = graph.GetManagedDevices(managed_ids);
  size_t next = 0;
  for (FoundRegistration& f : check.found) {
    if (f.device.managed_device_id.empty()) continue;
    Result<std::optional<ManagedDevice>>& m = managed.at(next++);
    // Without DeviceManagementManagedDevices.*, the registration is still worth showing.
    if (!m.ok() && m.status().code() == StatusCode::kPermissionDenied) continue;
    if (!m.ok()) return m.status();
    f.managed = std::move(*m);
  }
  return check;
}

RegistrationChecker::RegistrationChecker(RequestStore& store, GraphApi& graph, const Clock& clock)
    : store_(store), graph_(graph), clock_(clock) {}

RegistrationChecker::~RegistrationChecker() {
  Stop();
}

int RegistrationChecker::RunOnce(int limit) {
  Result<std::vector<StoredRequest>> pending = store_.PendingWithoutRegistration(limit);
  if (!pending.ok()) return 0;
  // Requests decided (or gone) before their lookup succeeded need no retry any more.
  std::erase_if(retries_, [&](const auto& entry) {
    return std::none_of(pending->begin(), pending->end(),
                        [&](const StoredRequest& r) { return r.id == entry.first; });
  });
  int saved = 0;
  for (const StoredRequest& r : *pending) {
    const int64_t now = clock_.NowMs();
    Retry& retry = retries_[r.id];
    if (now < retry.next_ms) continue;
    Result<RegistrationCheck> check = CheckRegistration(graph_, r.serial_number, now);
    if (!check.ok()) {
      ++retry.tries;
      retry.next_ms = now + kRetryMs;
      LogWarn("registration lookup failed",
              {{"request", r.id}, {"try", retry.tries}, {"error", check.status().message()}});
      if (retry.tries < kMaxTries) continue;
      check = RegistrationCheck{now, {}, check.status().message()};
    }
    if (store_.SaveRegistration(r.id, RegistrationCheckJson(*check), now).ok()) {
      retries_.erase(r.id);
      ++saved;
      if (!check->found.empty()) {
        LogInfo("existing registration found",
                {{"request", r.id}, {"registrations", check->found.size()}});
      }
    }
  }
  return saved;
}

void RegistrationChecker::Start() {
  thread_ = std::thread([this] {
    std::unique_lock lock(mu_);
    while (!stopping_) {
      lock.unlock();
      RunOnce();
      lock.lock();
      cv_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_; });
    }
  });
}

void RegistrationChecker::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

}  // namespace apm
