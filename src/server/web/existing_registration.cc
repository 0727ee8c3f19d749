#include "server/web/existing_registration.h"

#include <cctype>

#include "server/web/page_text.h"

namespace apm::web {

std::optional<int64_t> TimestampMs(const std::string& iso) {
  if (iso.size() < 20 || iso[10] != 'T' || iso[13] != ':' || iso[16] != ':' || iso.back() != 'Z') {
    return std::nullopt;
  }
  std::optional<int64_t> day = DayStartMs(iso.substr(0, 10));
  if (!day) return std::nullopt;
  for (size_t i : {11, 12, 14, 15, 17, 18}) {
    if (!std::isdigit(static_cast<unsigned char>(iso[i]))) return std::nullopt;
  }
  const int64_t hours = std::stoi(iso.substr(11, 2));
  const int64_t minutes = std::stoi(iso.substr(14, 2));
  const int64_t seconds = std::stoi(iso.substr(17, 2));
  if (hours > 23 || minutes > 59 || seconds > 60) return std::nullopt;
  return *day + ((hours * 60 + minutes) * 60 + seconds) * 1000;
}

namespace {

// "3 days ago", or "never" for a device that never contacted the service.
std::string LastSeen(const std::string& iso, int64_t now_ms) {
  std::optional<int64_t> at = TimestampMs(iso);
  if (!at) return "never";
  return *at >= now_ms ? "just now" : Age(now_ms - *at) + " ago";
}

}  // namespace

std::string RegistrationSummary(const RegistrationCheck& check, int64_t now_ms) {
  if (!check.error.empty()) {
    return "Could not check whether this serial number is already registered: " + check.error;
  }
  if (check.found.size() > 1) {
    return std::to_string(check.found.size()) +
           " Autopilot registrations have this serial number. Remove the ones that do not "
           "belong to this device in Intune before re-registering it.";
  }
  if (check.found.empty()) return "";
  const AutopilotDevice& d = check.found.front().device;
  std::string text = "Already registered in Autopilot";
  text += d.group_tag.empty() ? ", no group tag" : ", group tag " + d.group_tag;
  if (!d.user_principal_name.empty()) text += ", assigned to " + d.user_principal_name;
  text += ", last seen " + LastSeen(d.last_contacted, now_ms);
  return text + ": this looks like a repaired or reset device.";
}

TemplateData RegistrationRows(const FoundRegistration& found, int64_t now_ms) {
  const AutopilotDevice& d = found.device;
  TemplateData rows{TemplateData::type::list};
  auto row = [&](const std::string& label, const std::string& value) {
    if (value.empty()) return;
    TemplateData r;
    r.set("label", label);
    r.set("value", value);
    rows.push_back(r);
  };
  row("Autopilot record", d.id);
  row("Model", d.manufacturer.empty() ? d.model : d.manufacturer + " " + d.model);
  row("Group tag", d.group_tag.empty() ? "(none)" : d.group_tag);
  row("Purchase order id",
      d.purchase_order_id.empty()
          ? ""
          : d.purchase_order_id + " (not carried over by a re-registration: Graph cannot set it)");
  row("Assigned user", d.user_principal_name);
  row("Enrollment", d.enrollment_state);
  row("Profile", d.profile_status);
  row("Last contact", LastSeen(d.last_contacted, now_ms));
  if (found.managed) {
    row("Intune device",
        found.managed->device_name + ", last sync " + LastSeen(found.managed->last_sync, now_ms));
  }
  row("Entra device id", d.aad_device_id);
  return rows;
}

}  // namespace apm::web
