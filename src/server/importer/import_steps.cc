// The import engine's phases, one function each: what is called for a batch of jobs in that
// phase, and where each job goes next (docs/operations.md, "What a job does").
#include <algorithm>

#include "core/text.h"
#include "server/graph/graph_error.h"
#include "server/importer/import_engine.h"
#include "server/importer/import_slot.h"
#include "server/logging.h"

namespace apm {

using std::chrono::milliseconds;

void ImportEngine::DoImport(Batch& batch) {
  Batch fresh = ReadyToImport(batch);
  // Solo jobs go alone; the rest share one request.
  std::vector<Batch> groups;
  Batch shared;
  for (auto& slot : fresh) {
    if (slot->solo) {
      groups.push_back({slot});
    } else {
      shared.push_back(slot);
    }
  }
  if (!shared.empty()) groups.push_back(shared);
  for (Batch& group : groups) SendImports(group);
}

// Loads what the import needs; a job whose earlier attempt's answer was lost is first looked
// for in the tenant (reconciled) instead of imported again. The jobs to import now.
ImportEngine::Batch ImportEngine::ReadyToImport(Batch& batch) {
  Batch fresh;
  for (auto& slot : batch) {
    if (!LoadRequest(*slot)) continue;
    if (slot->job.import_attempts == 0) {
      fresh.push_back(slot);
      continue;
    }
    // Give Graph time to finish (and list) what a lost attempt may have started, so the look
    // below sees it.
    int64_t settle_until = slot->job.updated_at + settings_.reconcile_settle.count();
    if (clock_.NowMs() < settle_until) {
      slot->due_at = settle_until;
      continue;
    }
    // An earlier import's answer was lost (or the server stopped): did it happen?
    Result<std::vector<ImportRecord>> found = graph_.FindImports(slot->serial);
    if (!found.ok()) {
      CallFailed(*slot, Status(StatusCode::kUnavailable, found.status().message()));
      continue;
    }
    if (!found->empty()) {
      LogInfo("import reconciled",
              {{"request", slot->job.request_id}, {"import_id", found->front().id}});
      slot->job.import_id = found->front().id;
      Advance(*slot, ImportPhase::kWaitImport);
      continue;
    }
    fresh.push_back(slot);
  }
  return fresh;
}

// One import call for the group: each attempt is saved before the call, so a crash leads to
// reconciling instead of a second import.
void ImportEngine::SendImports(Batch& group) {
  std::vector<ImportItem> items;
  Batch sending;
  for (auto& slot : group) {
    ++slot->job.import_attempts;  // saved before the call, so a crash leads to reconciling
    if (!Save(*slot, RequestState::kImporting, std::string(Describe(ImportPhase::kImport).step),
              std::nullopt)) {
      --slot->job.import_attempts;  // not recorded: importing now could import twice later
      CallFailed(*slot, Status::Unavailable("the import attempt could not be recorded"));
      continue;
    }
    sending.push_back(slot);
    items.push_back({slot->serial, slot->hash, slot->job.approval.group_tag,
                     slot->job.approval.assigned_user, ""});
  }
  if (sending.empty()) return;
  group = std::move(sending);
  Result<std::vector<ImportRecord>> records = graph_.Import(items);
  if (!records.ok()) {
    if (records.status().code() == StatusCode::kInvalidArgument && group.size() > 1) {
      LogWarn("batch import refused; importing each device alone",
              {{"devices", group.size()}, {"error", records.status().message()}});
    }
    for (auto& slot : group) {
      if (records.status().code() == StatusCode::kInvalidArgument && group.size() > 1) {
        slot->solo = true;  // one bad device must not fail the others: try each alone
        slot->due_at = clock_.NowMs();
        continue;
      }
      CallFailed(*slot, records.status());
    }
    return;
  }
  for (auto& slot : group) {
    auto it = std::find_if(records->begin(), records->end(), [&](const ImportRecord& r) {
      return EqualsIgnoreCase(Trim(r.serial_number), Trim(slot->serial));
    });
    if (it == records->end() || it->id.empty()) {
      CallFailed(*slot, Status::Unavailable("the import answer does not list " + slot->serial));
      continue;
    }
    slot->job.import_id = it->id;
    slot->solo = false;
    Advance(*slot, ImportPhase::kWaitImport);
  }
}

void ImportEngine::DoWaitImport(Batch& batch) {
  std::vector<std::string> ids;
  for (auto& slot : batch) ids.push_back(slot->job.import_id);
  std::vector<Result<std::optional<ImportRecord>>> answers;
  Result<std::vector<ImportRecord>> listed = Status::Unavailable("not listed");
  if (batch.size() > 20) listed = graph_.ListImports();  // one request instead of a $batch each 20
  if (listed.ok()) {
    std::map<std::string, ImportRecord> by_id;
    for (ImportRecord& r : *listed) by_id.emplace(r.id, std::move(r));
    std::vector<std::string> unlisted;
    for (const std::string& id : ids) {
      auto it = by_id.find(id);
      answers.emplace_back(it == by_id.end() ? std::optional<ImportRecord>()
                                             : std::optional<ImportRecord>(it->second));
      if (it == by_id.end()) unlisted.push_back(id);
    }
    // Not in the list: make sure with a direct read before calling the record gone.
    if (!unlisted.empty()) {
      auto direct = graph_.GetImports(unlisted);
      for (size_t i = 0, k = 0; i < ids.size(); ++i) {
        if (k < unlisted.size() && ids[i] == unlisted[k]) answers[i] = std::move(direct[k++]);
      }
    }
  } else {
    answers = graph_.GetImports(ids);
  }
  for (size_t i = 0; i < batch.size(); ++i) {
    Slot& slot = *batch[i];
    if (!answers[i].ok()) {
      CallFailed(slot, answers[i].status());
      continue;
    }
    const std::optional<ImportRecord>& record = *answers[i];
    if (!record) {
      slot.job.import_id.clear();
      Fail(slot, RequestError{0, "ImportRecordMissing",
                              "The import record disappeared before the Autopilot service "
                              "finished with it (deleted by someone else?). Try again."});
      continue;
    }
    if (record->import_status == "complete") {
      slot.job.registration_id = record->registration_id;
      MoveOnFromRecord(slot);
    } else if (record->import_status == "error") {
      slot.job.outcome = RequestError{record->error_code, record->error_name,
                                      DescribeDdsError(record->error_code, record->error_name)};
      MoveOnFromRecord(slot);
    } else {
      Quiet(slot);  // unknown / pending / partial: the service is still working
    }
  }
}

// Jobs an earlier version saved in this phase: the record goes to the background lane too.
void ImportEngine::DoDeleteImport(Batch& batch) {
  for (auto& slot : batch) MoveOnFromRecord(*slot);
}

void ImportEngine::MoveOnFromRecord(Slot& slot) {
  LetGoOfImportRecord(slot);
  if (slot.job.outcome) {
    Fail(slot, *slot.job.outcome);
  } else if (slot.job.registration_id.empty()) {
    Fail(slot, RequestError{0, "NoRegistrationId",
                            "The Autopilot service reported the import complete but named no "
                            "device. Contact your IT department."});
  } else {
    Advance(slot, ImportPhase::kWaitDevice);
  }
}

void ImportEngine::LetGoOfImportRecord(Slot& slot) {
  if (slot.job.import_id.empty()) return;
  slot.job.import_id_to_delete = std::move(slot.job.import_id);
  slot.job.import_id.clear();
}

size_t ImportEngine::DeviceListThreshold() const {
  return size_t(2 * device_list_pages_.load());
}

std::vector<Result<std::optional<AutopilotDevice>>> ImportEngine::ReadAutopilotDevices(
    const std::vector<std::string>& ids) {
  if (ids.size() < DeviceListThreshold()) return graph_.GetAutopilotDevices(ids);
  Result<std::vector<AutopilotDevice>> listed = graph_.ListAutopilotDevices();
  if (!listed.ok()) return graph_.GetAutopilotDevices(ids);
  device_list_pages_ = std::max<int64_t>(1, (int64_t(listed->size()) + 999) / 1000);
  std::map<std::string, AutopilotDevice> by_id;
  for (AutopilotDevice& d : *listed) by_id.emplace(d.id, std::move(d));
  // A device the list lacks is not synced yet (the list shows devices once Intune has them),
  // exactly what a direct read would say: both phases poll it again later.
  std::vector<Result<std::optional<AutopilotDevice>>> answers;
  for (const std::string& id : ids) {
    auto it = by_id.find(id);
    answers.emplace_back(it == by_id.end() ? std::optional<AutopilotDevice>()
                                           : std::optional<AutopilotDevice>(it->second));
  }
  return answers;
}

void ImportEngine::DoWaitDevice(Batch& batch) {
  std::vector<std::string> ids;
  for (auto& slot : batch) ids.push_back(slot->job.registration_id);
  auto answers = ReadAutopilotDevices(ids);
  for (size_t i = 0; i < batch.size(); ++i) {
    Slot& slot = *batch[i];
    if (!answers[i].ok()) {
      CallFailed(slot, answers[i].status());
      continue;
    }
    const std::optional<AutopilotDevice>& device = *answers[i];
    if (!device || device->aad_device_id.empty()) {
      Quiet(slot);
      continue;
    }
    slot.job.aad_device_id = device->aad_device_id;
    Advance(slot, settings_.profile_group_id.empty() ? ImportPhase::kSetProperties
                                                     : ImportPhase::kFindEntraDevice);
  }
}

void ImportEngine::DoFindEntraDevice(Batch& batch) {
  std::vector<std::string> ids;
  for (auto& slot : batch) ids.push_back(slot->job.aad_device_id);
  auto answers = graph_.FindEntraDevices(ids);
  for (size_t i = 0; i < batch.size(); ++i) {
    Slot& slot = *batch[i];
    if (!answers[i].ok()) {
      CallFailed(slot, answers[i].status());
    } else if (!answers[i]->has_value()) {
      Quiet(slot);  // Entra lags behind Intune a little
    } else {
      slot.job.entra_object_id = (*answers[i])->object_id;
      Advance(slot, ImportPhase::kAddToGroup);
    }
  }
}

void ImportEngine::DoAddToGroup(Batch& batch) {
  std::vector<std::string> ids;
  for (auto& slot : batch) ids.push_back(slot->job.entra_object_id);
  std::vector<Status> results = graph_.AddGroupMembers(settings_.profile_group_id, ids);
  for (size_t i = 0; i < batch.size(); ++i) {
    if (results[i].ok()) {
      Advance(*batch[i], ImportPhase::kSetProperties);
    } else {
      CallFailed(*batch[i], results[i]);
    }
  }
}

void ImportEngine::DoSetProperties(Batch& batch) {
  for (auto& slot : batch) {
    const Approval& a = slot->job.approval;
    // An import set the group tag already; an update only sets it here.
    const std::string group_tag = a.action == ApprovalAction::kUpdateOnly ? a.group_tag : "";
    if (!a.device_name.empty() || !a.assigned_user.empty() || !group_tag.empty()) {
      Status s = graph_.UpdateDeviceProperties(slot->job.registration_id, a.device_name,
                                               a.assigned_user, group_tag);
      if (!s.ok()) {
        CallFailed(*slot, s);
        continue;
      }
    }
    if (settings_.wait_for_profile) {
      Advance(*slot, ImportPhase::kWaitProfile);
    } else {
      Complete(*slot);
    }
  }
}

void ImportEngine::DoWaitProfile(Batch& batch) {
  std::vector<std::string> ids;
  for (auto& slot : batch) ids.push_back(slot->job.registration_id);
  auto answers = ReadAutopilotDevices(ids);
  bool want_sync = false;
  for (size_t i = 0; i < batch.size(); ++i) {
    Slot& slot = *batch[i];
    if (!answers[i].ok()) {
      CallFailed(slot, answers[i].status());
      continue;
    }
    const std::optional<AutopilotDevice>& device = *answers[i];
    std::string status = device ? device->profile_status : "";
    if (status.starts_with("assigned")) {
      Complete(slot);
    } else if (status == "failed") {
      Fail(slot, RequestError{0, "ProfileAssignmentFailed",
                              "Intune could not assign an Autopilot profile to the device. "
                              "Contact your IT department."});
    } else {
      Quiet(slot);
      want_sync =
          want_sync || clock_.NowMs() - slot.job.phase_started_at >= settings_.sync_after.count();
    }
  }
  if (want_sync) MaybeSync();
}

}  // namespace apm
