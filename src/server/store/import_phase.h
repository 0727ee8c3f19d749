// The phases of an import job, and in one table what each one is: its stored name, the
// request state and step a client sees, and how the engine schedules it.
#pragma once

#include <optional>
#include <string_view>

#include "core/request_state.h"

namespace apm {

// Where an import job is. Finer than RequestState: a state may span several phases.
enum class ImportPhase {
  // A repair (re-register, remove the Intune record) first removes what the tenant holds.
  kCheckRegistration,     // read the registration again: exactly the one the approver saw
  kDeleteManagedDevice,   // delete its Intune managed device, if any
  kDeleteRegistration,    // delete the Autopilot record (re-register only)
  kWaitRegistrationGone,  // poll until the record is really gone (deletion is asynchronous)
  kRegisterIdentifier,  // APv2: register the corporate identifier (search first, never overwrite)
  kImport,        // send the import (reconciling first if an earlier attempt's answer was lost)
  kWaitImport,    // poll the import record until complete or error
  kDeleteImport,  // delete the import record, whatever the outcome
  kWaitDevice,    // poll the Autopilot device until it carries the Entra device id
  kFindEntraDevice,
  kAddToGroup,
  kSetProperties,  // device name and assigned user
  kWaitProfile,    // poll until the deployment profile is assigned
  kDone,
};

struct ImportPhaseInfo {
  ImportPhase phase;
  std::string_view name;  // as stored, e.g. "wait_import"
  RequestState state;     // what a client sees meanwhile
  std::string_view step;  // the words a client shows meanwhile
  bool writes;            // its calls change the tenant: one batch of them at a time
  bool waits;             // it waits for the service: polled after a pause, not at once
};

// The row of `phase` (every phase has one).
const ImportPhaseInfo& Describe(ImportPhase phase);
std::string_view ImportPhaseName(ImportPhase phase);
std::optional<ImportPhase> ParseImportPhase(std::string_view name);

}  // namespace apm
