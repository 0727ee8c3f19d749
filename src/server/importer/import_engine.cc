#include "server/importer/import_engine.h"

#include <algorithm>

#include "core/text.h"
#include "server/graph/graph_error.h"
#include "server/importer/import_slot.h"
#include "server/logging.h"

namespace apm {

using std::chrono::milliseconds;

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
  if (refresh) {
    Refresh();
    KeepStepTimes();
  }

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
    // One list answers for every job waiting for its import record, and, when enough wait, for
    // every job waiting on its Autopilot device: when one is due, all of them come along.
    std::map<ImportPhase, size_t> waiting;
    for (auto& [id, slot] : slots_) {
      if (!slot->busy && !slot->done) ++waiting[slot->job.phase];
    }
    auto listed = [&](ImportPhase phase) {
      return phase == ImportPhase::kWaitImport ||
             ((phase == ImportPhase::kWaitDevice || phase == ImportPhase::kWaitProfile) &&
              waiting[phase] >= DeviceListThreshold());
    };
    for (auto& [phase, slots] : due) {
      if (!listed(phase)) continue;
      for (auto& [id, slot] : slots_) {
        if (!slot->busy && !slot->done && slot->job.phase == phase && slot->due_at > horizon)
          slots.push_back(slot);
      }
    }
    for (auto& [phase, slots] : due) {
      // Listed phases in one batch (one list for all); the rest in $batch-sized groups.
      size_t chunk = phase == ImportPhase::kImport ? size_t(std::max(1, settings_.max_import_batch))
                     : listed(phase)               ? slots.size()
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
  MaybeDeleteImportRecords(now);
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
    lock.unlock();
    KeepStepTimes();  // what the last round learnt
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
    case ImportPhase::kCheckRegistration:
      return DoCheckRegistration(live);
    case ImportPhase::kDeleteManagedDevice:
      return DoDeleteManagedDevice(live);
    case ImportPhase::kDeleteRegistration:
      return DoDeleteRegistration(live);
    case ImportPhase::kWaitRegistrationGone:
      return DoWaitRegistrationGone(live);
    case ImportPhase::kRegisterIdentifier:
      return DoRegisterIdentifier(live);
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
    case RequestState::kRemovingRegistration:
      limit = settings_.removal_deadline;
      break;
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
    Fail(slot, *slot.job.outcome);  // the import itself failed: report that, not the clean-up
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
  if (saved.ok()) slot.job.import_id_to_delete.clear();  // queued with this save
  if (!saved.ok()) {
    // The store is down: keep going from memory; the next save carries the whole job. (Or
    // the lease passed on: the keeper stops this engine within half a lease.)
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
  if (moved) NoteWaitEnded(slot, now);
  slot.job.phase = phase;
  Save(slot, Describe(phase).state, std::string(Describe(phase).step), std::nullopt);
  if (moved) {
    LogInfo("import step", {{"request", slot.job.request_id}, {"phase", ImportPhaseName(phase)}});
  }
  slot.phase_entered_ms = now;
  slot.entered_by_move = true;
  slot.failures = 0;
  slot.last_error.clear();
  slot.due_at = Describe(phase).waits
                    ? now + step_times_.NextPollIn(phase, 0, settings_.poll_min.count(),
                                                   settings_.poll_max.count())
                    : now;
}

void ImportEngine::NoteWaitEnded(const Slot& slot, int64_t now) {
  // A resumed job's wait began before this run: its length is unknown.
  if (!Describe(slot.job.phase).waits || !slot.entered_by_move) return;
  step_times_.Add(slot.job.phase, now - slot.phase_entered_ms, now, /*fresh=*/true);
}

void ImportEngine::KeepStepTimes() {
  if (!step_times_loaded_) {
    Result<std::vector<StepTime>> recent = store_.RecentStepTimes(int(StepTimes::kKept));
    if (!recent.ok()) {
      // New ones wait too: saved before the history is read, they would be read twice.
      LogWarn("step times could not be read", {{"error", recent.status().message()}});
      return;
    }
    for (const StepTime& t : *recent) step_times_.Add(t.phase, t.took_ms);
    step_times_loaded_ = true;
  }
  std::vector<StepTime> fresh = step_times_.TakeUnsaved();
  if (fresh.empty()) return;
  // A statistic: when the store refuses, these are only lost for the next start.
  if (Status s = store_.RecordStepTimes(fresh); !s.ok()) {
    LogWarn("step times could not be saved", {{"error", s.message()}});
  }
}

void ImportEngine::Fail(Slot& slot, RequestError error) {
  // A record the import left is deleted by the background lane (queued with this save).
  LetGoOfImportRecord(slot);
  LogWarn("import failed", {{"request", slot.job.request_id},
                            {"code", error.code},
                            {"name", error.name},
                            {"message", error.message}});
  ImportPhase phase = slot.job.phase;
  slot.job.phase = ImportPhase::kDone;
  slot.job.outcome = error;
  if (!Save(slot, RequestState::kFailed, std::string(RequestStateStep(RequestState::kFailed)),
            error)) {
    slot.job.phase = phase;  // not recorded: stay (with the record) and try again later
    if (slot.job.import_id.empty()) std::swap(slot.job.import_id, slot.job.import_id_to_delete);
    slot.due_at = clock_.NowMs() + settings_.poll_max.count();
    return;
  }
  slot.done = true;
}

void ImportEngine::Complete(Slot& slot, const std::string& step) {
  LogInfo("import completed",
          {{"request", slot.job.request_id}, {"autopilot_id", slot.job.registration_id}});
  ImportPhase phase = slot.job.phase;
  NoteWaitEnded(slot, clock_.NowMs());
  slot.job.phase = ImportPhase::kDone;
  if (!Save(slot, RequestState::kCompleted,
            step.empty() ? std::string(RequestStateStep(RequestState::kCompleted)) : step,
            std::nullopt)) {
    slot.job.phase = phase;
    slot.entered_by_move = false;  // its wait is recorded already
    slot.due_at = clock_.NowMs() + settings_.poll_max.count();
    return;
  }
  slot.done = true;
}

void ImportEngine::Quiet(Slot& slot) {
  int64_t now = clock_.NowMs();
  slot.due_at =
      now + step_times_.NextPollIn(slot.job.phase, now - slot.phase_entered_ms,
                                   settings_.poll_min.count(), settings_.poll_max.count());
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
