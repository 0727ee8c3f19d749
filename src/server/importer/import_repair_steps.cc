// The import engine's repair phases: check that the registration to replace is still exactly
// the one the approver saw, delete its Intune managed device, delete the Autopilot record and
// wait until it is gone; then the import runs as for a new device. Every delete is recorded
// before it is sent; after a crash or a lost answer the job reads whether the object still
// exists instead of deleting again. Entra device objects are never deleted: BitLocker recovery
// keys and LAPS passwords live there (docs/operations.md, "Repairs").
#include "server/importer/import_engine.h"
#include "server/importer/import_slot.h"
#include "server/logging.h"

namespace apm {

namespace {

// Deleting can end three ways: done, refused for good (an admin must act), or not known.
bool RefusedForGood(const Status& s) {
  return s.code() != StatusCode::kUnavailable && s.code() != StatusCode::kResourceExhausted &&
         s.code() != StatusCode::kDeadlineExceeded;
}

// Whether each object exists, from the answers of reading them.
template <typename T>
std::vector<Result<bool>> Presence(const std::vector<Result<std::optional<T>>>& answers) {
  std::vector<Result<bool>> out;
  for (const auto& a : answers) {
    out.push_back(a.ok() ? Result<bool>(a->has_value()) : Result<bool>(a.status()));
  }
  return out;
}

bool Repairs(const ImportJob& job) {
  return job.approval.action == ApprovalAction::kReRegister;
}

}  // namespace

bool ImportEngine::LoadRequest(Slot& slot) {
  if (slot.loaded) return true;
  Result<StoredRequest> r = store_.GetWithHash(slot.job.request_id);
  if (!r.ok()) {
    CallFailed(slot, r.status());
    return false;
  }
  slot.serial = r->serial_number;
  slot.hash = r->hardware_hash;
  slot.manufacturer = r->manufacturer;
  slot.model = r->model;
  slot.loaded = true;
  return true;
}

void ImportEngine::DoCheckRegistration(Batch& batch) {
  for (auto& slot : batch) {
    if (!LoadRequest(*slot)) continue;
    Result<std::vector<AutopilotDevice>> found = graph_.FindAutopilotDevices(slot->serial);
    if (!found.ok()) {
      CallFailed(*slot, Status::Unavailable(found.status().message()));
      continue;
    }
    const ImportJob& job = slot->job;
    if (found->size() > 1) {
      Fail(*slot, RequestError{0, "RegistrationAmbiguous",
                               std::to_string(found->size()) +
                                   " Autopilot registrations have "
                                   "the serial number " +
                                   slot->serial +
                                   ". Nothing was deleted. "
                                   "Remove the ones that do not belong to this device in Intune, "
                                   "then ask again."});
      continue;
    }
    if (found->empty()) {
      if (Repairs(job)) {
        Advance(*slot, ImportPhase::kImport);  // nothing left to remove
      } else {
        Fail(*slot, RequestError{0, "RegistrationNotFound",
                                 "No Autopilot registration has the serial number " + slot->serial +
                                     ", so there is no Intune record to remove."});
      }
      continue;
    }
    const AutopilotDevice& device = found->front();
    if (!job.approval.registration_id.empty() && device.id != job.approval.registration_id) {
      Fail(*slot, RequestError{0, "RegistrationChanged",
                               "The registration of " + slot->serial +
                                   " changed after the "
                                   "approval (it is now " +
                                   device.id +
                                   "). Nothing was deleted. "
                                   "Ask for a new approval."});
      continue;
    }
    slot->job.approval.registration_id = device.id;
    slot->job.old_managed_device_id = device.managed_device_id;
    if (!device.managed_device_id.empty()) {
      Advance(*slot, ImportPhase::kDeleteManagedDevice);
    } else if (Repairs(job)) {
      Advance(*slot, ImportPhase::kDeleteRegistration);
    } else {
      Fail(*slot, RequestError{
                      0, "NoManagedDevice",
                      "The registration of " + slot->serial + " has no Intune record to remove."});
    }
  }
}

void ImportEngine::DoDeleteManagedDevice(Batch& batch) {
  DeleteOnce(batch,
             Removal{.what = "the device's Intune record",
                     .refused_name = "ManagedDeviceNotDeleted",
                     .id = [](const Slot& s) { return s.job.old_managed_device_id; },
                     .exists =
                         [this](std::span<const std::string> ids) {
                           return Presence(graph_.GetManagedDevices(ids));
                         },
                     .remove =
                         [this](std::span<const std::string> ids) {
                           return graph_.DeleteManagedDevices(ids);
                         }},
             [this](Slot& slot) {
               if (Repairs(slot.job)) {
                 Advance(slot, ImportPhase::kDeleteRegistration);
               } else {
                 Complete(slot);
               }
             });
}

void ImportEngine::DoDeleteRegistration(Batch& batch) {
  DeleteOnce(batch,
             Removal{.what = "the old Autopilot registration",
                     .refused_name = "RegistrationNotDeleted",
                     .id = [](const Slot& s) { return s.job.approval.registration_id; },
                     .exists =
                         [this](std::span<const std::string> ids) {
                           return Presence(graph_.GetAutopilotDevices(ids));
                         },
                     .remove =
                         [this](std::span<const std::string> ids) {
                           return graph_.DeleteAutopilotDevices(ids);
                         }},
             [this](Slot& slot) { Advance(slot, ImportPhase::kWaitRegistrationGone); });
}

// Sends each job's delete once. A job whose earlier delete has no known outcome first waits for
// Graph to settle, then reads the object: gone counts as deleted, still there is deleted again.
void ImportEngine::DeleteOnce(Batch& batch, const Removal& removal,
                              const std::function<void(Slot&)>& deleted) {
  auto done = [&](Slot& slot) {
    slot.job.delete_attempts = 0;
    deleted(slot);
  };
  Batch unsure;
  Batch fresh;
  for (auto& slot : batch) (slot->job.delete_attempts > 0 ? unsure : fresh).push_back(slot);
  if (!unsure.empty()) {
    Batch settled;
    for (auto& slot : unsure) {
      const int64_t settle_until = slot->job.updated_at + settings_.reconcile_settle.count();
      if (clock_.NowMs() < settle_until) {
        slot->due_at = settle_until;
      } else {
        settled.push_back(slot);
      }
    }
    std::vector<std::string> ids;
    for (auto& slot : settled) ids.push_back(removal.id(*slot));
    std::vector<Result<bool>> exists = removal.exists(ids);
    for (size_t i = 0; i < settled.size(); ++i) {
      if (!exists[i].ok()) {
        CallFailed(*settled[i], Status::Unavailable(exists[i].status().message()));
      } else if (!*exists[i]) {
        done(*settled[i]);
      } else {
        fresh.push_back(settled[i]);  // the earlier delete did not happen: send it again
      }
    }
  }
  Batch sending;
  std::vector<std::string> ids;
  for (auto& slot : fresh) {
    ++slot->job.delete_attempts;  // saved before the call, so a crash leads to reading first
    if (!Save(*slot, slot->state, slot->step, std::nullopt)) {
      --slot->job.delete_attempts;
      CallFailed(*slot, Status::Unavailable("the delete could not be recorded"));
      continue;
    }
    LogInfo("deleting",
            {{"request", slot->job.request_id}, {"what", removal.what}, {"id", removal.id(*slot)}});
    sending.push_back(slot);
    ids.push_back(removal.id(*slot));
  }
  std::vector<Status> results = removal.remove(ids);
  for (size_t i = 0; i < sending.size(); ++i) {
    Slot& slot = *sending[i];
    if (results[i].ok()) {
      done(slot);
    } else if (RefusedForGood(results[i])) {
      Fail(slot, RequestError{0, removal.refused_name,
                              "Microsoft Graph refused to delete " + removal.what + " (" +
                                  removal.id(slot) + "); nothing further was deleted. " +
                                  results[i].message()});
    } else {
      CallFailed(slot, results[i]);  // outcome unknown: read before deleting again
    }
  }
}

void ImportEngine::DoWaitRegistrationGone(Batch& batch) {
  std::vector<std::string> ids;
  for (auto& slot : batch) ids.push_back(slot->job.approval.registration_id);
  auto answers = graph_.GetAutopilotDevices(ids);
  for (size_t i = 0; i < batch.size(); ++i) {
    Slot& slot = *batch[i];
    if (!answers[i].ok()) {
      CallFailed(slot, answers[i].status());
    } else if (answers[i]->has_value()) {
      Quiet(slot);  // deletion is asynchronous: "might take some time"
    } else {
      Advance(slot, ImportPhase::kImport);
    }
  }
}

}  // namespace apm
