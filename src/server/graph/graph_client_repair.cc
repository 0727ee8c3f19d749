// GraphClient's calls of the repair path (find a registration by serial, read and delete the
// Intune managed device, delete the Autopilot record) and of APv2 corporate identifiers.
// Facts: docs/graph-facts.md#repair and #apv2.
#include "core/text.h"
#include "server/graph/graph_client.h"
#include "server/graph/graph_resources.h"
#include "server/json_text.h"

namespace apm {

using json = nlohmann::json;

namespace {

constexpr const char* kAutopilotDevices = "/beta/deviceManagement/windowsAutopilotDeviceIdentities";
constexpr const char* kManagedDevices = "/beta/deviceManagement/managedDevices";

}  // namespace

Result<std::vector<AutopilotDevice>> GraphClient::FindAutopilotDevices(const std::string& serial) {
  Result<std::vector<json>> listed =
      ListPages(std::string(kAutopilotDevices) + "?" + ContainsSerialQuery(serial),
                "looking for the Autopilot registration of " + serial);
  if (!listed.ok()) return listed.status();
  std::vector<AutopilotDevice> found;
  for (const json& j : *listed) {
    AutopilotDevice device = AutopilotDeviceFromJson(j);
    if (SameSerial(device.serial_number, serial)) found.push_back(std::move(device));
  }
  return found;
}

Result<std::vector<AutopilotDevice>> GraphClient::ListAutopilotDevices() {
  Result<std::vector<json>> listed = ListPages(kAutopilotDevices, "listing Autopilot devices");
  if (!listed.ok()) return listed.status();
  std::vector<AutopilotDevice> devices;
  devices.reserve(listed->size());
  for (const json& j : *listed) devices.push_back(AutopilotDeviceFromJson(j));
  return devices;
}

std::vector<Result<std::optional<ManagedDevice>>> GraphClient::GetManagedDevices(
    std::span<const std::string> ids) {
  return GetEach<ManagedDevice>(
      std::string(kManagedDevices) + "/", ids,
      "?$select=id,deviceName,serialNumber,azureADDeviceId,lastSyncDateTime",
      &ManagedDeviceFromJson, "reading the Intune managed device");
}

std::vector<Status> GraphClient::DeleteEach(const std::string& base,
                                            std::span<const std::string> ids,
                                            const std::string& what) {
  std::vector<Call> calls;
  for (const std::string& id : ids) {
    calls.push_back({.method = "DELETE",
                     .url = base + "/" + id,
                     .body = std::nullopt,
                     .idempotent = false,
                     .retry_429 = true});
  }
  std::vector<Status> out;
  for (const Answer& a : SendAll(calls)) {
    out.push_back(a.ok() || a.status == 404 ? Status() : a.ToStatus(what));
  }
  return out;
}

std::vector<Status> GraphClient::DeleteManagedDevices(std::span<const std::string> ids) {
  return DeleteEach(kManagedDevices, ids, "deleting the Intune managed device");
}

std::vector<Status> GraphClient::DeleteAutopilotDevices(std::span<const std::string> ids) {
  return DeleteEach(kAutopilotDevices, ids, "deleting the Autopilot registration");
}

namespace {

constexpr const char* kIdentities = "/beta/deviceManagement/importedDeviceIdentities";

json IdentityList(const std::string& identifier) {
  return {{"importedDeviceIdentities",
           {{{"importedDeviceIdentityType", "manufacturerModelSerial"},
             {"importedDeviceIdentifier", identifier}}}}};
}

}  // namespace

Result<bool> GraphClient::CorporateIdentifierExists(const std::string& identifier) {
  // A search changes nothing, so it may be repeated after a lost answer.
  Answer a = Send({.method = "POST",
                   .url = std::string(kIdentities) + "/searchExistingIdentities",
                   .body = IdentityList(identifier),
                   .idempotent = true,
                   .retry_429 = true});
  if (!a.ok()) return a.ToStatus("looking for the corporate identifier " + identifier);
  if (!a.body.contains("value") || !a.body["value"].is_array()) {
    return Status::Unavailable("the identifier search answered without a value list");
  }
  for (const json& found : a.body["value"]) {
    if (EqualsIgnoreCase(StringMember(found, "importedDeviceIdentifier"), identifier)) return true;
  }
  return false;
}

Result<bool> GraphClient::ImportCorporateIdentifier(const std::string& identifier) {
  json body = IdentityList(identifier);
  body["overwriteImportedDeviceIdentities"] = false;
  Answer a = Send({.method = "POST",
                   .url = std::string(kIdentities) + "/importDeviceIdentityList",
                   .body = std::move(body),
                   .idempotent = false,
                   .retry_429 = true});
  if (!a.ok()) return a.ToStatus("registering the corporate identifier " + identifier);
  if (!a.body.contains("value") || !a.body["value"].is_array() || a.body["value"].empty() ||
      !a.body["value"][0].is_object()) {
    return Status::Unavailable("the identifier import answered without a result");
  }
  const json& result = a.body["value"][0];
  return result.contains("status") && result["status"].is_boolean() && result["status"].get<bool>();
}

}  // namespace apm
