#include "server/store/import_phase.h"

#include "server/store/request_store.h"

namespace apm {
namespace {

using S = RequestState;

// Write phases are spread one batch at a time: deletes and property updates spend a write per
// device and may wait long for the write budget, and spreading imports and group adds spreads
// the polls that follow them (measured in docs/performance.md).
constexpr ImportPhaseInfo kPhases[] = {
    {ImportPhase::kCheckRegistration, "check_registration", S::kRemovingRegistration,
     "Checking the existing registration", false, false},
    {ImportPhase::kDeleteManagedDevice, "delete_managed_device", S::kRemovingRegistration,
     "Removing the device from Intune", true, false},
    {ImportPhase::kDeleteRegistration, "delete_registration", S::kRemovingRegistration,
     "Removing the old registration", true, false},
    {ImportPhase::kWaitRegistrationGone, "wait_registration_gone", S::kRemovingRegistration,
     "Waiting for the old registration to be removed", false, true},
    {ImportPhase::kRegisterIdentifier, "register_identifier", S::kImporting,
     "Registering the corporate identifier", true, false},
    {ImportPhase::kImport, "import", S::kImporting, "Importing the device into Autopilot", true,
     false},
    {ImportPhase::kWaitImport, "wait_import", S::kImporting,
     "Waiting for the Autopilot service to process the import", false, true},
    {ImportPhase::kDeleteImport, "delete_import", S::kImporting, "Finishing the import", true,
     false},
    {ImportPhase::kWaitDevice, "wait_device", S::kWaitingForSync,
     "Waiting for the device to sync to Intune and Entra ID", false, true},
    {ImportPhase::kFindEntraDevice, "find_entra_device", S::kAddingToGroup,
     "Looking up the device in Entra ID", false, true},
    {ImportPhase::kAddToGroup, "add_to_group", S::kAddingToGroup,
     "Adding the device to the Autopilot profile group", true, false},
    {ImportPhase::kSetProperties, "set_properties", S::kAddingToGroup,
     "Setting the device name and assigned user", true, false},
    {ImportPhase::kWaitProfile, "wait_profile", S::kWaitingForProfile,
     "Waiting for the Autopilot profile to be assigned", false, true},
    {ImportPhase::kDone, "done", S::kCompleted, "", false, false},
};

struct ApprovalActionInfo {
  ApprovalAction action;
  std::string_view name;
  ImportPhase first;
};

// Update only starts where an import ends: at the registration, waiting for its Entra device.
constexpr ApprovalActionInfo kActions[] = {
    {ApprovalAction::kImport, "import", ImportPhase::kImport},
    {ApprovalAction::kReRegister, "re_register", ImportPhase::kCheckRegistration},
    {ApprovalAction::kUpdateOnly, "update_only", ImportPhase::kWaitDevice},
    {ApprovalAction::kRemoveManagedDevice, "remove_intune_record", ImportPhase::kCheckRegistration},
    {ApprovalAction::kRegisterCorporateIdentifier, "register_corporate_identifier",
     ImportPhase::kRegisterIdentifier},
};

}  // namespace

const ImportPhaseInfo& Describe(ImportPhase phase) {
  for (const ImportPhaseInfo& p : kPhases) {
    if (p.phase == phase) return p;
  }
  return kPhases[std::size(kPhases) - 1];  // kDone
}

std::string_view ImportPhaseName(ImportPhase phase) {
  return Describe(phase).name;
}

std::string_view ApprovalActionName(ApprovalAction action) {
  for (const ApprovalActionInfo& a : kActions) {
    if (a.action == action) return a.name;
  }
  return "import";
}

std::optional<ApprovalAction> ParseApprovalAction(std::string_view name) {
  for (const ApprovalActionInfo& a : kActions) {
    if (a.name == name) return a.action;
  }
  return std::nullopt;
}

ImportPhase FirstPhase(ApprovalAction action) {
  for (const ApprovalActionInfo& a : kActions) {
    if (a.action == action) return a.first;
  }
  return ImportPhase::kImport;
}

std::optional<ImportPhase> ParseImportPhase(std::string_view name) {
  for (const ImportPhaseInfo& p : kPhases) {
    if (p.name == name) return p.phase;
  }
  return std::nullopt;
}

}  // namespace apm
