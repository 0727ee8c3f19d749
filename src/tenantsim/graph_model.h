// The simulated tenant behind apm-tenant-sim's Graph routes: Autopilot import records, Autopilot
// device identities, Entra devices, groups and users, plus the simulator's own machinery
// (throttling windows, fault injection, counters). Everything time-based is derived from time
// stamps when read, using the injected Clock, so a ManualClock makes tests deterministic and no
// thread runs in the background. Facts: docs/graph-facts.md, #import-records to #paging.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "core/status.h"
#include "server/clock.h"

namespace apm::sim {

// A registration that exists before the simulation begins: what a repaired or reset device
// finds in the tenant (docs/graph-facts.md#repair).
struct RegisteredDeviceSpec {
  std::string serial_number;
  std::string manufacturer = "Simulated Manufacturer";
  std::string model = "Preregistered Model";
  std::string group_tag;
  std::string purchase_order_id;
  std::string user_principal_name;
  std::string managed_device_name;  // "" when the device is not enrolled in Intune
  int64_t last_contacted_days_ago = 3;
};

struct SimConfig {
  // Import processing: the record's state stays "unknown" this long, then complete or error.
  int64_t import_delay_ms = 15'000;
  // After completion: the windowsAutopilotDeviceIdentity exists, still without an Entra id.
  int64_t sync_visible_delay_ms = 30'000;
  // After completion: the identity carries azureActiveDirectoryDeviceId and the Entra device
  // exists. Values below sync_visible_delay_ms are raised to it.
  int64_t sync_delay_ms = 90'000;
  // After the Entra device joins the profile group: "assignedInSync" (before: "pending").
  int64_t profile_delay_ms = 120'000;

  std::set<std::string> other_tenant_serials;  // import ends in 808
  std::set<std::string> registered_serials;    // already in this tenant: import ends in 806
  // Registrations with their details (and managed device), created at start and by Reset.
  std::vector<RegisteredDeviceSpec> registered_devices;
  // A DELETE of an Autopilot device is accepted at once; the record stays visible (and an
  // import of its serial still ends in 806) this long, as the portal's "might take some time".
  int64_t autopilot_delete_delay_ms = 5'000;
  // What DELETE answers while an Intune managed device remains is not documented; with this set
  // the simulator refuses with a 400 in Intune's error shape (a stand-in of our choosing).
  bool refuse_delete_while_managed = true;
  // Whether importing the serial of a record whose deletion is not complete yet ends in 806
  // (true) or creates a second record (false): not documented either, so both can be tried.
  bool deleting_record_blocks_import = true;

  std::string profile_group_id = "6a1c0f3e-5d2b-4c8a-9e71-2f4b8d0c6a15";
  std::string profile_group_name = "Autopilot Profile Devices";
  // Set-up mistakes `apm-server doctor` finds: a dynamic profile group, and a deployment profile
  // that does not target it.
  bool profile_group_dynamic = false;
  bool profile_assigned = true;
  // A tenant `apm-server setup entra` has not touched: no profile group, no deployment profile
  // (and, in main.cc, no app registration for apm-server).
  bool empty_tenant = false;

  // Per app (token client id), sliding window; 0 means unlimited.
  int write_limit = 100;  // Intune (deviceManagement) routes
  int request_limit = 1000;
  int directory_write_limit = 200;  // devices, groups and users: a separate service family
  int directory_request_limit = 2000;
  int64_t throttle_window_ms = 20'000;

  // Fault injection, each a probability per Graph request (0..1).
  double error_rate = 0;          // 500 or 503 instead of the effect
  double lost_response_rate = 0;  // effect applied, connection dropped without an answer
  double drop_rate = 0;           // connection dropped before any effect
  double slow_rate = 0;           // answer delayed by slow_ms
  int64_t slow_ms = 0;
  uint64_t seed = 1;

  size_t page_size = 1000;             // items per page of every list
  size_t max_import_batch = 100;       // records per /import call; more is a 400 (our choice)
  int64_t sync_cooldown_ms = 600'000;  // windowsAutopilotSettings/sync: 429 within this
  bool admin_enabled = false;          // the /_sim/ routes
};

// A registration from its JSON form (serialNumber required; manufacturer, model, groupTag,
// purchaseOrderIdentifier, userPrincipalName, managedDeviceName, lastContactedDaysAgo).
Result<RegisteredDeviceSpec> RegisteredDeviceFromJson(const nlohmann::json& j);
nlohmann::json RegisteredDeviceToJson(const RegisteredDeviceSpec& spec);

// Applies the JSON keys of POST /_sim/config (camelCase names of SimConfig's fields) to
// `config`; unknown keys and wrong types are errors and leave `config` unchanged.
Status ApplyConfigJson(const nlohmann::json& patch, SimConfig& config);
nlohmann::json ConfigToJson(const SimConfig& config);

// A Graph-level failure a model operation reports; the route layer renders it in the error
// shape of the service family (Graph, or Intune's nested form).
struct ApiError {
  int status;
  std::string code;
  std::string message;
  int retry_after_seconds = -1;  // -1: none
};

struct ImportInput {
  std::string serial_number;
  std::string group_tag;
  std::string product_key;
  std::string hardware_identifier;  // standard base64, already checked by the caller
  std::string assigned_user_principal_name;
};

enum class Fault { kNone, kStatus500, kStatus503, kDropBeforeEffect, kLostResponse };

struct FaultDecision {
  Fault fault = Fault::kNone;
  int64_t delay_ms = 0;  // slow answer
};

struct SimStats {
  std::map<std::string, int64_t> requests;  // "POST /beta/deviceManagement/…" -> count
  int64_t throttled = 0;                    // 429s from the throttling windows
  int64_t sync_refused = 0;                 // 429s from the 10-minute sync rule
  int64_t faults_500 = 0, faults_503 = 0, dropped = 0, lost = 0, slow = 0;
  // Every import record created, per serial (also those whose answer was lost).
  std::map<std::string, int64_t> imports_by_serial;
  // Accepted deletions, per serial: Autopilot records and Intune managed devices.
  std::map<std::string, int64_t> autopilot_deletes_by_serial;
  std::map<std::string, int64_t> managed_device_deletes_by_serial;
  // Corporate identifiers created by importDeviceIdentityList, per identifier text.
  std::map<std::string, int64_t> identity_imports_by_identifier;
};

// One device identity as /_sim/devices shows it: the truth, whether visible yet or not.
struct AutopilotDeviceView {
  std::string id;
  std::string serial_number;
  std::string group_tag;
  std::string azure_ad_device_id;  // "" until synced
  std::string entra_object_id;     // "" until synced
  std::string profile_status;
  std::string display_name;
  std::string user_principal_name;
  std::string purchase_order_id;
  std::string managed_device_id;  // "" when none
  bool visible = false;
  bool deleting = false;  // a DELETE was accepted; the record goes at the end of the delay
  // When the simulated service made each change (ms since the epoch; -1: not yet), so
  // benchmarks can measure how soon a client sees it.
  int64_t import_completed_ms = -1;
  int64_t synced_ms = -1;
  int64_t profile_assigned_ms = -1;
};

class GraphModel {
 public:
  GraphModel(const Clock& clock, SimConfig config);

  SimConfig config() const;
  // Replaces the configuration; the fault generator restarts from the new seed. The profile
  // group and registered serials are not re-created (see Reset).
  void SetConfig(SimConfig config);
  // Back to the start: no imports, devices or device memberships, counters and throttling
  // windows cleared, registered serials and the profile group re-created, generator reseeded.
  // Users, other groups and their non-device members stay.
  void Reset();

  // --- Directory set-up (for sign-in and getMemberObjects) ---
  // Returns the group's id (`id` when given, else a new GUID).
  std::string AddGroup(const std::string& display_name, bool security_enabled = true,
                       const std::string& id = "");
  std::string AddUser(const std::string& user_principal_name, const std::string& display_name,
                      const std::string& id = "");
  // Adds a user, group or visible device to a group; errors as Graph's members/$ref.
  std::optional<ApiError> AddMember(const std::string& group_id, const std::string& object_id);
  // The user's Entra directory roles by name ("Global Administrator", ...); /me/memberOf.
  void SetDirectoryRoles(const std::string& user_id, std::vector<std::string> roles);
  std::vector<std::string> DirectoryRoles(const std::string& user_id) const;

  // --- Imported identities ---
  // Creates one record per input and decides its outcome by the DDS rules (806, 808, 802, and
  // ZtdDeviceDuplicated for a hash seen earlier in the same call). Returns the records as JSON.
  std::vector<nlohmann::json> Import(const std::vector<ImportInput>& inputs);
  std::optional<nlohmann::json> GetImport(const std::string& id) const;
  std::vector<nlohmann::json> ListImports() const;  // sorted by id
  bool DeleteImport(const std::string& id);

  // --- windowsAutopilotDeviceIdentities (visible ones only) ---
  std::optional<nlohmann::json> GetAutopilotDevice(const std::string& id, bool beta) const;
  std::vector<nlohmann::json> ListAutopilotDevices(bool beta) const;
  // 404 when there is no such record; 400 while a managed device remains (when configured).
  // Accepted: the record goes after autopilot_delete_delay_ms; a repeat is accepted again.
  std::optional<ApiError> DeleteAutopilotDevice(const std::string& id);

  // --- Registrations made before the simulation, and Intune managed devices ---
  // Adds a visible, synced registration (with its managed device when the spec names one) and
  // returns its Autopilot device id. The spec is also kept in the config, so Reset re-creates it.
  std::string AddRegisteredDevice(const RegisteredDeviceSpec& spec);
  std::vector<nlohmann::json> ListManagedDevices() const;  // sorted by id
  std::optional<nlohmann::json> GetManagedDevice(const std::string& id) const;
  // Removes the managed device and its link from the Autopilot record; false when unknown.
  bool DeleteManagedDevice(const std::string& id);

  // --- importedDeviceIdentities (APv2 corporate identifiers, beta) ---
  // The identities whose type and identifier equal one of `wanted` (letter case aside).
  std::vector<nlohmann::json> SearchIdentities(
      const std::vector<std::pair<std::string, std::string>>& wanted) const;
  // One importedDeviceIdentityResult per item: created (status true), or, for an identifier
  // already held, status false and the held one unchanged unless `overwrite` (our reading of
  // undocumented behaviour).
  std::vector<nlohmann::json> ImportIdentities(
      const std::vector<std::pair<std::string, std::string>>& items, bool overwrite);
  std::vector<nlohmann::json> ListIdentities() const;  // sorted by id
  std::optional<nlohmann::json> GetIdentity(const std::string& id) const;
  bool DeleteIdentity(const std::string& id);
  bool AssignUser(const std::string& id, const std::string& upn, const std::string& addressable);
  bool UnassignUser(const std::string& id);
  // Fields absent from `props` are left unchanged.
  bool UpdateDeviceProperties(const std::string& id, const nlohmann::json& props);

  // windowsAutopilotSettings: the sync action; an error (429 with Retry-After) within the
  // cooldown of the previous one.
  std::optional<ApiError> Sync();
  nlohmann::json AutopilotSettings() const;
  // The Windows Autopilot deployment profiles, each with its assignments.
  std::vector<nlohmann::json> DeploymentProfiles() const;
  // Creates a profile from a POST body (its fields kept as given); the profile as Graph
  // answers it, or a 400 for a body without displayName or @odata.type.
  std::variant<nlohmann::json, ApiError> CreateDeploymentProfile(const nlohmann::json& body);
  // Targets `group_id` (which must exist) with the profile; the assignment, or 404/400.
  std::variant<nlohmann::json, ApiError> AssignDeploymentProfile(const std::string& profile_id,
                                                                 const std::string& group_id);
  std::optional<std::vector<nlohmann::json>> DeploymentProfileAssignments(
      const std::string& profile_id) const;

  // --- Entra ---
  std::vector<nlohmann::json> ListDevices() const;
  std::optional<nlohmann::json> GetDevice(const std::string& object_id) const;
  std::vector<nlohmann::json> ListGroups() const;
  std::optional<nlohmann::json> GetGroup(const std::string& id) const;
  std::optional<std::vector<nlohmann::json>> ListGroupMembers(const std::string& group_id) const;
  // All or nothing: every object must exist and not be a member yet.
  std::optional<ApiError> AddMembers(const std::string& group_id,
                                     const std::vector<std::string>& object_ids);
  std::optional<ApiError> RemoveMember(const std::string& group_id, const std::string& object_id);
  // Transitive group ids of a user (object id or UPN); nullopt for an unknown user.
  std::optional<std::vector<std::string>> MemberObjects(const std::string& user,
                                                        bool security_enabled_only) const;

  // --- Simulator machinery ---
  // Takes a slot in the app's windows, or returns the Retry-After seconds when full.
  // Intune and directory routes are separate service families with their own windows.
  std::optional<int> Throttle(const std::string& client_id, bool intune, bool is_write);
  // Draws this request's fault. Without connection faults (batch sub-requests) the drop and
  // lost cases become "no fault", keeping the sequence of draws the same.
  FaultDecision DrawFault(bool allow_connection_faults);
  void CountRequest(const std::string& route_key);

  SimStats Stats() const;
  int64_t ImportCount(const std::string& serial) const;
  std::vector<AutopilotDeviceView> Devices() const;
  // Object ids in a group, in the order they were added.
  std::vector<std::string> GroupMemberIds(const std::string& group_id) const;
  const std::string& profile_group_id() const { return profile_group_id_; }

  // A random GUID from the seeded generator.
  std::string NewGuid();

 private:
  struct ImportRecord {
    std::string id, import_id, serial, group_tag, product_key, hardware_identifier, upn;
    int64_t complete_ms = 0;  // fixed at creation, so later config changes affect new imports
    int error_code = 0;
    std::string error_name;
    std::string device_id;  // the identity created for a successful import
  };
  struct AutopilotDevice {
    std::string id, serial, group_tag, manufacturer, model, product_key, sku, family;
    std::string display_name, upn, addressable_user_name;
    std::string aad_device_id, entra_object_id;
    std::string purchase_order_id, managed_device_id;
    int64_t completed_ms = 0, visible_ms = 0, synced_ms = 0;
    int64_t last_contacted_ms = -1;  // -1: never
    int64_t gone_ms = -1;            // -1: not deleted; else when the deletion completes
  };
  struct Identity {
    std::string id, type, identifier, description;
    int64_t created_ms = 0, modified_ms = 0;
  };
  struct ManagedDevice {
    std::string id, name, serial, aad_device_id, autopilot_id, upn;
    int64_t enrolled_ms = 0, last_sync_ms = 0;
  };
  struct EntraDevice {
    std::string object_id, device_id, display_name, ztd_id, group_tag;
    int64_t visible_ms = 0;
  };
  struct Member {
    std::string object_id;
    int64_t added_ms = 0;
  };
  struct Group {
    std::string id, display_name;
    bool security_enabled = true;
    std::vector<Member> members;
    bool dynamic = false;  // members from a rule (groupTypes DynamicMembership)
  };
  struct User {
    std::string id, upn, display_name;
    std::vector<std::string> directory_roles = {};
  };
  struct DeploymentProfile {
    nlohmann::json body;                 // as created, with id and timestamps
    std::vector<std::string> group_ids;  // the groups it targets
  };
  struct Window {
    std::deque<int64_t> all, writes;
  };

  std::string NewGuidLocked();
  void SeedLocked();
  void CreateDeviceLocked(const std::string& serial, const std::string& group_tag,
                          const std::string& manufacturer, const std::string& model,
                          const std::string& product_key, int64_t completed_ms,
                          std::string* device_id);
  nlohmann::json ImportJsonLocked(const ImportRecord& r) const;
  nlohmann::json AutopilotJsonLocked(const AutopilotDevice& d, bool beta) const;
  nlohmann::json EntraJsonLocked(const EntraDevice& e) const;
  nlohmann::json MemberJsonLocked(const std::string& object_id) const;
  std::string ProfileStatusLocked(const AutopilotDevice& d, int64_t* assigned_ms) const;
  bool ObjectExistsLocked(const std::string& object_id) const;
  bool SerialRegisteredLocked(const std::string& serial) const;
  // The record while it is visible and not deleted; nullptr otherwise.
  AutopilotDevice* FindVisibleLocked(const std::string& id);
  const AutopilotDevice* FindVisibleLocked(const std::string& id) const;
  bool VisibleLocked(const AutopilotDevice& d) const;
  std::string AddRegisteredDeviceLocked(const RegisteredDeviceSpec& spec);
  nlohmann::json ManagedJsonLocked(const ManagedDevice& m) const;
  nlohmann::json ProfileJsonLocked(const std::string& id, const DeploymentProfile& p) const;
  nlohmann::json IdentityJsonLocked(const Identity& i) const;

  const Clock& clock_;
  mutable std::mutex mu_;  // guards every member below (the *Locked functions hold it)
  SimConfig config_;
  std::string profile_group_id_;
  std::mt19937_64 fault_rng_;
  std::mt19937_64 id_rng_;
  std::map<std::string, ImportRecord> imports_;
  std::map<std::string, AutopilotDevice> devices_;
  std::map<std::string, ManagedDevice> managed_;
  std::map<std::string, Identity> identities_;
  std::map<std::string, EntraDevice> entra_;  // by object id
  std::map<std::string, Group> groups_;
  std::map<std::string, User> users_;
  std::map<std::string, DeploymentProfile> profiles_;  // by id
  std::map<std::string, Window> windows_;              // by client id and service family
  int64_t last_sync_ms_ = -1;
  SimStats stats_;
};

}  // namespace apm::sim
