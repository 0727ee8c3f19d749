#include "server/importer/import_engine.h"

#include <algorithm>

#include "core/text.h"
#include "server/graph/graph_error.h"
#include "server/logging.h"

namespace apm {
namespace {

using std::chrono::milliseconds;

}  // namespace

struct ImportEngine::Slot {
  ImportJob job;
  RequestState state = RequestState::kApproved;
  std::string step;
  std::string serial;  // loaded for the import
  std::string hash;
  int64_t due_at = 0;
  int64_t phase_entered_ms = 0;  // when the job entered its current phase (this run)
  int failures = 0;
  bool busy = false;
  bool done = false;
  bool solo = false;  // import alone (a batch it was in was refused)
  std::string last_error;
};

ImportEngine::ImportEngine(RequestStore& store, GraphApi& graph, const Clock& clock,
                           ImportSettings settings, Executor executor)
    : store_(store),
      graph_(graph),
      clock_(clock),
      settings_(std::move(settings)),
      executor_(executor ? std::move(executor)
                         : Executor([](std::function<void()> work) { work(); })) {}

ImportEngine::~ImportEngine() {
  Stop();
}

size_t ImportEngine::active_jobs() {
  std::lock_guard lock(mu_);
  // `done` of a busy slot belongs to its worker: a busy job counts as active.
  return size_t(std::count_if(slots_.begin(), slots_.end(),
                              [](const auto& kv) { return kv.second->busy || !kv.second->done; }));
}

void ImportEngine::Refresh() {
  Result<std::vector<ImportJob>> jobs = store_.OpenJobs(settings_.max_active_jobs);
  if (!jobs.ok()) {
    LogWarn("import jobs could not be read", {{"error", jobs.status().message()}});
    return;
  }
  std::vector<std::shared_ptr<Slot>> fresh;
  {
    std::lock_guard lock(mu_);
    for (ImportJob& job : *jobs) {
      if (slots_.count(job.request_id)) continue;
      auto slot = std::make_shared<Slot>();
      slot->job = std::move(job);
      fresh.push_back(slot);
    }
  }
  std::vector<std::shared_ptr<Slot>> ready;
  for (auto& slot : fresh) {
    Result<StoredRequest> r = store_.Get(slot->job.request_id);
    if (!r.ok()) continue;  // picked up at the next refresh
    ready.push_back(slot);
    // A job's first deadline runs from when the engine starts it, not from the approval
    // (jobs may queue behind MaxActiveImports, or wait for a tenant to be configured).
    if (r->state == RequestState::kApproved) slot->job.phase_started_at = clock_.NowMs();
    slot->state = r->state;
    slot->step = r->step;
    slot->phase_entered_ms = clock_.NowMs();
    slot->due_at = clock_.NowMs();              // resumed or new: look at it now
    if (r->state != RequestState::kApproved) {  // a job an earlier run left unfinished
      LogInfo("import job resumed",
              {{"request", slot->job.request_id}, {"phase", ImportPhaseName(slot->job.phase)}});
    }
  }
  std::lock_guard lock(mu_);
  for (auto& slot : ready) slots_.emplace(slot->job.request_id, slot);
}

std::chrono::milliseconds ImportEngine::RunOnce() {
  int64_t now = clock_.NowMs();
  bool refresh;
  {
    std::lock_guard lock(mu_);
    refresh = now >= next_refresh_ms_;
    if (refresh) next_refresh_ms_ = now + 1000;
  }
  if (refresh) Refresh();

  std::vector<std::pair<ImportPhase, Batch>> work;
  int64_t next_due = now + 1000;
  {
    std::lock_guard lock(mu_);
    std::erase_if(slots_, [](const auto& kv) { return !kv.second->busy && kv.second->done; });
    // Jobs due within a fifth of the shortest poll interval join this round: fuller batches.
    int64_t horizon = now + settings_.poll_min.count() / 5;
    std::map<ImportPhase, Batch> due;
    for (auto& [id, slot] : slots_) {
      if (slot->busy || slot->done) continue;
      if (slot->due_at <= horizon) {
        due[slot->job.phase].push_back(slot);
      } else {
        next_due = std::min(next_due, slot->due_at);
      }
    }
    // One list (or one $batch) answers for every job waiting for its import record: when one
    // is due, all of them come along.
    if (due.count(ImportPhase::kWaitImport)) {
      Batch& waiting = due[ImportPhase::kWaitImport];
      for (auto& [id, slot] : slots_) {
        if (!slot->busy && !slot->done && slot->job.phase == ImportPhase::kWaitImport &&
            slot->due_at > horizon)
          waiting.push_back(slot);
      }
    }
    for (auto& [phase, slots] : due) {
      // Import records are polled with one list for all jobs; the rest in $batch-sized groups.
      size_t chunk = phase == ImportPhase::kImport ? size_t(std::max(1, settings_.max_import_batch))
                     : phase == ImportPhase::kWaitImport ? slots.size()
                                                         : size_t(20);
      // Writes wait for the write budget inside the call; one batch of each writing phase at a
      // time keeps the other workers free for polls (and the rest of its jobs for later).
      bool writes = Describe(phase).writes;
      if (writes && busy_phases_[phase] > 0) continue;
      for (size_t i = 0; i < slots.size(); i += chunk) {
        Batch batch(slots.begin() + i, slots.begin() + std::min(slots.size(), i + chunk));
        for (auto& s : batch) s->busy = true;
        ++busy_batches_;
        ++busy_phases_[phase];
        work.emplace_back(phase, std::move(batch));
        if (writes) break;
      }
    }
  }
  for (auto& [phase, batch] : work) {
    executor_([this, phase = phase, batch = std::move(batch)]() mutable {
      try {
        RunPhase(phase, batch);
      } catch (const std::exception& e) {  // a bug must cost one round, not the process
        LogError("import step crashed; will be retried",
                 {{"phase", ImportPhaseName(phase)}, {"error", e.what()}});
        for (auto& s : batch) s->due_at = clock_.NowMs() + settings_.poll_max.count();
      }
      std::lock_guard lock(mu_);
      for (auto& s : batch) s->busy = false;
      --busy_batches_;
      --busy_phases_[phase];
      cv_.notify_all();
    });
  }
  if (!work.empty()) {
    // Work handed out may already be done (inline executor): look again soon.
    std::lock_guard lock(mu_);
    for (auto& [id, slot] : slots_) {
      if (!slot->busy && !slot->done) next_due = std::min(next_due, slot->due_at);
    }
  }
  return milliseconds(std::clamp<int64_t>(next_due - clock_.NowMs(), 10, 1000));
}

void ImportEngine::Start() {
  thread_ = std::thread([this] {
    std::unique_lock lock(mu_);
    while (!stopping_) {
      lock.unlock();
      milliseconds wait = RunOnce();
      lock.lock();
      cv_.wait_for(lock, wait, [this] { return stopping_; });
    }
    cv_.wait(lock, [this] { return busy_batches_ == 0; });
  });
}

void ImportEngine::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

void ImportEngine::RunPhase(ImportPhase phase, Batch batch) {
  Batch live;
  for (auto& slot : batch) {
    if (!PastDeadline(*slot)) live.push_back(slot);
  }
  if (live.empty()) return;
  switch (phase) {
    case ImportPhase::kImport:
      return DoImport(live);
    case ImportPhase::kWaitImport:
      return DoWaitImport(live);
    case ImportPhase::kDeleteImport:
      return DoDeleteImport(live);
    case ImportPhase::kWaitDevice:
      return DoWaitDevice(live);
    case ImportPhase::kFindEntraDevice:
      return DoFindEntraDevice(live);
    case ImportPhase::kAddToGroup:
      return DoAddToGroup(live);
    case ImportPhase::kSetProperties:
      return DoSetProperties(live);
    case ImportPhase::kWaitProfile:
      return DoWaitProfile(live);
    case ImportPhase::kDone:
      return;
  }
}

bool ImportEngine::PastDeadline(Slot& slot) {
  milliseconds limit{0};
  switch (Describe(slot.job.phase).state) {
    case RequestState::kImporting:
      limit = settings_.import_deadline;
      break;
    case RequestState::kWaitingForSync:
      limit = settings_.sync_deadline;
      break;
    case RequestState::kAddingToGroup:
      limit = settings_.group_deadline;
      break;
    case RequestState::kWaitingForProfile:
      limit = settings_.profile_deadline;
      break;
    default:
      return false;
  }
  int64_t now = clock_.NowMs();
  if (now - slot.job.phase_started_at <= limit.count()) return false;
  if (slot.job.phase == ImportPhase::kImport && slot.job.import_attempts > 0 &&
      slot.job.import_id.empty() && !slot.serial.empty()) {
    // Before giving up, one more look: a record our lost attempt made must still be deleted.
    Result<std::vector<ImportRecord>> found = graph_.FindImports(slot.serial);
    if (found.ok() && !found->empty()) slot.job.import_id = found->front().id;
  }
  if (slot.job.phase == ImportPhase::kDeleteImport && slot.job.outcome) {
    // The import already failed and the record cannot be deleted: report the real outcome.
    LogWarn("import record left behind", {{"request", slot.job.request_id},
                                          {"import_id", slot.job.import_id},
                                          {"error", slot.last_error}});
    slot.job.import_id.clear();
    Fail(slot, *slot.job.outcome);
    return true;
  }
  std::string why = "The step \"" + std::string(Describe(slot.job.phase).step) +
                    "\" did not finish within " + std::to_string(limit.count() / 60'000) +
                    " minutes.";
  if (slot.job.phase == ImportPhase::kWaitProfile) {
    why += " Check that a deployment profile targets the device's group tag or group.";
  }
  if (!slot.last_error.empty()) why += " Last error: " + slot.last_error;
  Fail(slot, RequestError{0, "StepTimedOut", why});
  return true;
}

bool ImportEngine::Save(Slot& slot, RequestState state, const std::string& step,
                        const std::optional<RequestError>& error) {
  slot.job.updated_at = clock_.NowMs();
  Result<StoredRequest> saved = store_.SaveJob(slot.job, state, step, error, slot.job.updated_at);
  if (!saved.ok()) {
    // The store is down: keep going from memory; the next save carries the whole job.
    LogError("import job could not be saved",
             {{"request", slot.job.request_id}, {"error", saved.status().message()}});
    return false;
  }
  bool changed = slot.state != state || slot.step != step;
  slot.state = state;
  slot.step = step;
  if (changed && on_change_) on_change_();
  return true;
}

void ImportEngine::Advance(Slot& slot, ImportPhase phase) {
  int64_t now = clock_.NowMs();
  if (Describe(phase).state != Describe(slot.job.phase).state ||
      slot.state == RequestState::kApproved) {
    slot.job.phase_started_at = now;
  }
  bool moved = phase != slot.job.phase;
  slot.job.phase = phase;
  Save(slot, Describe(phase).state, std::string(Describe(phase).step), std::nullopt);
  if (moved) {
    LogInfo("import step", {{"request", slot.job.request_id}, {"phase", ImportPhaseName(phase)}});
  }
  slot.phase_entered_ms = now;
  slot.failures = 0;
  slot.last_error.clear();
  slot.due_at = Describe(phase).waits ? now + settings_.poll_min.count() : now;
}

void ImportEngine::Fail(Slot& slot, RequestError error) {
  bool record_left = !slot.job.import_id.empty() && (slot.job.phase == ImportPhase::kImport ||
                                                     slot.job.phase == ImportPhase::kWaitImport);
  if (record_left) {
    slot.job.outcome = std::move(error);
    slot.job.phase_started_at = clock_.NowMs();  // the clean-up gets a deadline of its own
    Advance(slot, ImportPhase::kDeleteImport);
    return;
  }
  LogWarn("import failed", {{"request", slot.job.request_id},
                            {"code", error.code},
                            {"name", error.name},
                            {"message", error.message}});
  ImportPhase phase = slot.job.phase;
  slot.job.phase = ImportPhase::kDone;
  slot.job.outcome = error;
  if (!Save(slot, RequestState::kFailed, std::string(RequestStateStep(RequestState::kFailed)),
            error)) {
    slot.job.phase = phase;  // not recorded: stay and try to record it again later
    slot.due_at = clock_.NowMs() + settings_.poll_max.count();
    return;
  }
  slot.done = true;
}

void ImportEngine::Complete(Slot& slot) {
  LogInfo("import completed",
          {{"request", slot.job.request_id}, {"autopilot_id", slot.job.registration_id}});
  ImportPhase phase = slot.job.phase;
  slot.job.phase = ImportPhase::kDone;
  if (!Save(slot, RequestState::kCompleted, std::string(RequestStateStep(RequestState::kCompleted)),
            std::nullopt)) {
    slot.job.phase = phase;
    slot.due_at = clock_.NowMs() + settings_.poll_max.count();
    return;
  }
  slot.done = true;
}

void ImportEngine::Quiet(Slot& slot) {
  // Poll at about a tenth of the time already waited: a change is seen late by ~5% of the
  // wait, and a long wait costs few polls (logarithmic in its length).
  int64_t now = clock_.NowMs();
  int64_t waited = now - slot.phase_entered_ms;
  slot.due_at = now + std::clamp<int64_t>(waited / 10, settings_.poll_min.count(),
                                          settings_.poll_max.count());
}

void ImportEngine::CallFailed(Slot& slot, const Status& status) {
  slot.last_error = status.message();
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kNotFound:
    case StatusCode::kFailedPrecondition:
      Fail(slot,
           RequestError{0, "GraphError", "Microsoft Graph refused a step: " + status.message()});
      return;
    default:
      break;
  }
  ++slot.failures;
  LogWarn("import step will be retried", {{"request", slot.job.request_id},
                                          {"phase", ImportPhaseName(slot.job.phase)},
                                          {"error", status.message()}});
  int64_t backoff = settings_.poll_min.count() << std::min(slot.failures, 6);
  slot.due_at = clock_.NowMs() + std::min<int64_t>(backoff, settings_.poll_max.count());
}

void ImportEngine::DoImport(Batch& batch) {
  Batch fresh;
  for (auto& slot : batch) {
    if (slot->hash.empty()) {
      Result<StoredRequest> r = store_.GetWithHash(slot->job.request_id);
      if (!r.ok()) {
        CallFailed(*slot, r.status());
        continue;
      }
      slot->serial = r->serial_number;
      slot->hash = r->hardware_hash;
    }
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
  for (Batch& group : groups) {
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
    if (sending.empty()) continue;
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
      continue;
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
      Advance(slot, ImportPhase::kDeleteImport);
    } else if (record->import_status == "error") {
      slot.job.outcome = RequestError{record->error_code, record->error_name,
                                      DescribeDdsError(record->error_code, record->error_name)};
      Advance(slot, ImportPhase::kDeleteImport);
    } else {
      Quiet(slot);  // unknown / pending / partial: the service is still working
    }
  }
}

void ImportEngine::DoDeleteImport(Batch& batch) {
  std::vector<std::string> ids;
  for (auto& slot : batch) ids.push_back(slot->job.import_id);
  std::vector<Status> results = graph_.DeleteImports(ids);
  for (size_t i = 0; i < batch.size(); ++i) {
    Slot& slot = *batch[i];
    if (!results[i].ok()) {
      slot.last_error = results[i].message();
      ++slot.failures;
      Quiet(slot);
      continue;
    }
    slot.job.import_id.clear();
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
}

void ImportEngine::DoWaitDevice(Batch& batch) {
  std::vector<std::string> ids;
  for (auto& slot : batch) ids.push_back(slot->job.registration_id);
  auto answers = graph_.GetAutopilotDevices(ids);
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
    if (!a.device_name.empty() || !a.assigned_user.empty()) {
      Status s =
          graph_.UpdateDeviceProperties(slot->job.registration_id, a.device_name, a.assigned_user);
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
  auto answers = graph_.GetAutopilotDevices(ids);
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

void ImportEngine::MaybeSync() {
  int64_t now = clock_.NowMs();
  {
    std::lock_guard lock(mu_);
    if (last_sync_ms_ != 0 && now - last_sync_ms_ < settings_.sync_interval.count()) return;
    last_sync_ms_ = now;  // claimed: other batches do not sync too
  }
  Status s = graph_.SyncAutopilot();
  if (s.ok()) {
    LogInfo("Autopilot sync requested");
  } else {
    LogWarn("Autopilot sync not started", {{"error", s.message()}});
  }
}

}  // namespace apm
