#include "server/graph/graph_resources.h"

#include "core/text.h"
#include "server/http/form.h"
#include "server/json_text.h"

namespace apm {

using json = nlohmann::json;

namespace {

constexpr std::string_view kZeroGuid = "00000000-0000-0000-0000-000000000000";
// Graph's "never" for a date and time.
constexpr std::string_view kNeverPrefix = "0001-01-01";

std::string DateTimeMember(const json& j, const char* name) {
  std::string text = StringMember(j, name);
  return text.starts_with(kNeverPrefix) ? "" : text;
}

}  // namespace

ImportRecord ImportRecordFromJson(const json& j) {
  ImportRecord r;
  r.id = StringMember(j, "id");
  r.serial_number = StringMember(j, "serialNumber");
  if (j.contains("state") && j["state"].is_object()) {
    const json& s = j["state"];
    r.import_status = StringMember(s, "deviceImportStatus");
    r.registration_id = StringMember(s, "deviceRegistrationId");
    if (s.contains("deviceErrorCode") && s["deviceErrorCode"].is_number_integer())
      r.error_code = s["deviceErrorCode"].get<int>();
    r.error_name = StringMember(s, "deviceErrorName");
  }
  return r;
}

AutopilotDevice AutopilotDeviceFromJson(const json& j) {
  AutopilotDevice d;
  d.id = StringMember(j, "id");
  d.serial_number = StringMember(j, "serialNumber");
  d.aad_device_id = StringMember(j, "azureActiveDirectoryDeviceId");
  d.profile_status = StringMember(j, "deploymentProfileAssignmentStatus");
  d.display_name = StringMember(j, "displayName");
  d.user_principal_name = StringMember(j, "userPrincipalName");
  d.manufacturer = StringMember(j, "manufacturer");
  d.model = StringMember(j, "model");
  d.group_tag = StringMember(j, "groupTag");
  d.purchase_order_id = StringMember(j, "purchaseOrderIdentifier");
  d.managed_device_id = StringMember(j, "managedDeviceId");
  if (d.managed_device_id == kZeroGuid) d.managed_device_id.clear();
  d.enrollment_state = StringMember(j, "enrollmentState");
  d.last_contacted = DateTimeMember(j, "lastContactedDateTime");
  return d;
}

ManagedDevice ManagedDeviceFromJson(const json& j) {
  ManagedDevice m;
  m.id = StringMember(j, "id");
  m.device_name = StringMember(j, "deviceName");
  m.serial_number = StringMember(j, "serialNumber");
  m.aad_device_id = StringMember(j, "azureADDeviceId");
  m.last_sync = DateTimeMember(j, "lastSyncDateTime");
  return m;
}

json AutopilotDeviceJson(const AutopilotDevice& d) {
  return {{"id", d.id},
          {"serialNumber", d.serial_number},
          {"azureActiveDirectoryDeviceId", d.aad_device_id},
          {"deploymentProfileAssignmentStatus", d.profile_status},
          {"displayName", d.display_name},
          {"userPrincipalName", d.user_principal_name},
          {"manufacturer", d.manufacturer},
          {"model", d.model},
          {"groupTag", d.group_tag},
          {"purchaseOrderIdentifier", d.purchase_order_id},
          {"managedDeviceId", d.managed_device_id},
          {"enrollmentState", d.enrollment_state},
          {"lastContactedDateTime", d.last_contacted}};
}

json ManagedDeviceJson(const ManagedDevice& m) {
  return {{"id", m.id},
          {"deviceName", m.device_name},
          {"serialNumber", m.serial_number},
          {"azureADDeviceId", m.aad_device_id},
          {"lastSyncDateTime", m.last_sync}};
}

json ImportItemJson(const ImportItem& item) {
  return {{"@odata.type", "#microsoft.graph.importedWindowsAutopilotDeviceIdentity"},
          {"groupTag", item.group_tag},
          {"serialNumber", item.serial_number},
          {"productKey", item.product_key},
          {"hardwareIdentifier", item.hardware_hash},
          {"assignedUserPrincipalName", item.assigned_user}};
}

std::string ContainsSerialQuery(const std::string& serial) {
  const std::string token = serial.substr(0, serial.find(' '));
  return "$filter=" + FormEncode("contains(serialNumber," + ODataQuoted(token) + ")");
}

bool SameSerial(const std::string& a, const std::string& b) {
  return EqualsIgnoreCase(Trim(a), Trim(b));
}

std::string ODataQuoted(std::string_view value) {
  std::string out = "'";
  for (char c : value) {
    out += c;
    if (c == '\'') out += '\'';
  }
  return out + "'";
}

}  // namespace apm
