// The Microsoft Graph operations of the import workflow, batched where Graph allows it. The
// workflow sees only this interface; GraphClient implements it over HTTP. Facts:
// docs/graph-facts.md#import-records, #autopilot-devices, #entra-devices-and-groups, #batching,
// #paging and #throttling.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"

namespace apm {

struct ImportItem {
  std::string serial_number;
  std::string hardware_hash;  // standard base64, as the device reported it
  std::string group_tag;
  std::string assigned_user;  // UPN or ""
  std::string product_key;
};

// importedWindowsAutopilotDeviceIdentity, as far as the workflow needs it.
struct ImportRecord {
  std::string id;
  std::string serial_number;
  std::string import_status;  // unknown | pending | partial | complete | error
  std::string registration_id;
  int error_code = 0;
  std::string error_name;
};

// windowsAutopilotDeviceIdentity (beta).
struct AutopilotDevice {
  std::string id;
  std::string serial_number;
  std::string aad_device_id;   // azureActiveDirectoryDeviceId, "" until synced to Entra
  std::string profile_status;  // deploymentProfileAssignmentStatus
  std::string display_name;
  std::string user_principal_name;
  // What an approver of a repair needs to know (docs/graph-facts.md#repair).
  std::string manufacturer;
  std::string model;
  std::string group_tag;
  std::string purchase_order_id;  // purchaseOrderIdentifier; read-only in every write
  std::string managed_device_id;  // "" when none (Graph says the zero GUID)
  std::string enrollment_state;   // enrolled | notContacted | failed | ...
  std::string last_contacted;     // ISO 8601, "" for never
};

// managedDevice: the Intune record of an enrolled device.
struct ManagedDevice {
  std::string id;
  std::string device_name;
  std::string serial_number;
  std::string aad_device_id;
  std::string last_sync;  // ISO 8601, "" for never
};

struct EntraDevice {
  std::string object_id;
  std::string device_id;
};

class GraphApi {
 public:
  virtual ~GraphApi() = default;

  // Creates one import record per item (one request for all of them). Not idempotent: the
  // caller reconciles with FindImports before repeating a call whose answer was lost.
  virtual Result<std::vector<ImportRecord>> Import(std::span<const ImportItem> items) = 0;
  // Import records whose serial number equals `serial` (case-insensitive), following pages.
  virtual Result<std::vector<ImportRecord>> FindImports(const std::string& serial) = 0;
  // All import records of the tenant (they are transient, so the list is short), following
  // pages: one request answers the polls of many jobs.
  virtual Result<std::vector<ImportRecord>> ListImports() = 0;
  // One answer per id, in order: the record, or nullopt when it no longer exists.
  virtual std::vector<Result<std::optional<ImportRecord>>> GetImports(
      std::span<const std::string> ids) = 0;
  // One answer per id; a record that is already gone counts as deleted.
  virtual std::vector<Status> DeleteImports(std::span<const std::string> ids) = 0;
  // Whether a background write (the import record clean-up) may go now without taking the room
  // of a write a user waits for: none is waiting for the budget, and a $batch of them fits with
  // a fifth of the current window's writes still free.
  virtual bool HasSpareWrites() = 0;
  // Every Autopilot device of the tenant, following pages (about 1000 per page): one request
  // per page answers the polls of many jobs.
  virtual Result<std::vector<AutopilotDevice>> ListAutopilotDevices() = 0;
  // One answer per id: the Autopilot device, or nullopt while it is not synced yet.
  virtual std::vector<Result<std::optional<AutopilotDevice>>> GetAutopilotDevices(
      std::span<const std::string> ids) = 0;
  // One answer per Entra device id: the device object, or nullopt while it does not exist.
  virtual std::vector<Result<std::optional<EntraDevice>>> FindEntraDevices(
      std::span<const std::string> device_ids) = 0;
  // Adds directory objects to a group; members already in it count as added.
  virtual std::vector<Status> AddGroupMembers(const std::string& group_id,
                                              std::span<const std::string> object_ids) = 0;
  // Sets what is not empty of display name, assigned user and group tag.
  virtual Status UpdateDeviceProperties(const std::string& autopilot_id,
                                        const std::string& display_name,
                                        const std::string& user_principal_name,
                                        const std::string& group_tag) = 0;
  // Asks Intune to sync Autopilot devices. kResourceExhausted when Graph refuses because the
  // last sync was less than 10 minutes ago; a sync already running counts as success.
  virtual Status SyncAutopilot() = 0;
  // Transitive group ids of a user (group overage in sign-in tokens).
  virtual Result<std::vector<std::string>> GetMemberObjects(const std::string& user_id) = 0;

  // --- The repair path (docs/graph-facts.md#repair) ---
  // Autopilot devices whose whole serial number equals `serial` (letter case aside): Graph is
  // asked with contains(), and a device whose serial only contains ours is never returned.
  virtual Result<std::vector<AutopilotDevice>> FindAutopilotDevices(const std::string& serial) = 0;
  // One answer per id: the managed device, or nullopt when it does not exist.
  virtual std::vector<Result<std::optional<ManagedDevice>>> GetManagedDevices(
      std::span<const std::string> ids) = 0;
  // One answer per id; a device already gone (404) counts as deleted. Never repeated by the
  // client itself: a DELETE whose answer was lost is the caller's to reconcile.
  virtual std::vector<Status> DeleteManagedDevices(std::span<const std::string> ids) = 0;
  // The same for Autopilot records. Deletion is asynchronous: the record may stay visible for a
  // while after the call succeeded.
  virtual std::vector<Status> DeleteAutopilotDevices(std::span<const std::string> ids) = 0;

  // --- APv2 corporate identifiers (beta; docs/graph-facts.md#apv2) ---
  // Whether Intune holds the manufacturerModelSerial identifier ("Manufacturer,Model,Serial").
  virtual Result<bool> CorporateIdentifierExists(const std::string& identifier) = 0;
  // Imports it without overwriting: true when created, false when Intune already held it.
  virtual Result<bool> ImportCorporateIdentifier(const std::string& identifier) = 0;
};

}  // namespace apm
