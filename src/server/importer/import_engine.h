// Runs the import job of every approved request through Microsoft Graph: import, wait for the
// Autopilot service (its import record is then deleted in a background lane, off the job's
// path), wait for the device to sync, add it to the
// profile group, set its name and user, wait for the profile. Every step is saved in the store
// before the next one starts, so a restarted server resumes each job where it stopped; a call
// whose answer was lost is reconciled before it is repeated. Jobs in the same phase are handled
// together (one $batch for their polls), and slow jobs never hold up the others.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "server/clock.h"
#include "server/graph/graph_api.h"
#include "server/importer/step_times.h"
#include "server/store/request_store.h"

namespace apm {

struct ImportSettings {
  // The group whose members get the Autopilot profile; "" to rely on dynamic groups.
  std::string profile_group_id;
  // Wait until a deployment profile is assigned before reporting success.
  bool wait_for_profile = true;
  int max_active_jobs = 1000;  // jobs advanced at once; the rest wait their turn
  int max_import_batch = 20;   // devices per /import request
  // Adaptive polling, between these bounds: when this tenant's recent waits in the same phase
  // say the change is likely (StepTimes); without such a history, soon after a change, then
  // at about a tenth of the time already waited.
  std::chrono::milliseconds poll_min{5'000};
  std::chrono::milliseconds poll_max{60'000};
  // After an import whose answer was lost, wait this long before looking for its record (and
  // importing again if there is none): Graph may still be processing the first one.
  std::chrono::milliseconds reconcile_settle{60'000};
  // Wait this long for a profile before asking Intune to sync (at most once per 10 minutes).
  std::chrono::milliseconds sync_after{120'000};
  std::chrono::milliseconds sync_interval{600'000};
  // Deadlines of the steps a user sees; a job past one fails and says which step took too long.
  std::chrono::milliseconds import_deadline{30 * 60'000};
  std::chrono::milliseconds sync_deadline{60 * 60'000};
  std::chrono::milliseconds group_deadline{30 * 60'000};
  std::chrono::milliseconds profile_deadline{90 * 60'000};
  // A repair's removal (check, deletes, waiting until the old registration is gone).
  std::chrono::milliseconds removal_deadline{60 * 60'000};
};

class ImportEngine {
 public:
  // Runs `work` on some thread; the default runs it at once, on the caller's thread.
  using Executor = std::function<void(std::function<void()> work)>;

  ImportEngine(RequestStore& store, GraphApi& graph, const Clock& clock, ImportSettings settings,
               Executor executor = {});
  ~ImportEngine();

  // One scheduling pass: picks up new approvals and hands every due job to the executor
  // (jobs in the same phase together). Returns how long until something is due again.
  std::chrono::milliseconds RunOnce();

  // A thread that calls RunOnce whenever something is due (new approvals, also from other
  // processes, are picked up within a second).
  void Start();
  void Stop();

  // Called after every saved change of a request's state (wakes long-polling clients).
  void SetChangeListener(std::function<void()> listener) { on_change_ = std::move(listener); }

  // Jobs the engine holds now (for metrics and tests).
  size_t active_jobs();

 private:
  struct Slot;
  using Batch = std::vector<std::shared_ptr<Slot>>;

  // What a repair phase deletes (import_repair_steps.cc).
  struct Removal {
    std::string what;          // "the old Autopilot registration"
    std::string refused_name;  // the RequestError name when Graph refuses for good
    std::function<std::string(const Slot&)> id;
    std::function<std::vector<Result<bool>>(std::span<const std::string>)> exists;
    std::function<std::vector<Status>(std::span<const std::string>)> remove;
  };

  void Refresh();
  void RunPhase(ImportPhase phase, Batch batch);
  // Reads the request's serial and hash into the slot once; false (and retried) when it cannot.
  bool LoadRequest(Slot& slot);
  void DoCheckRegistration(Batch& batch);
  void DoDeleteManagedDevice(Batch& batch);
  void DoDeleteRegistration(Batch& batch);
  void DeleteOnce(Batch& batch, const Removal& removal, const std::function<void(Slot&)>& deleted);
  void DoWaitRegistrationGone(Batch& batch);
  void DoRegisterIdentifier(Batch& batch);
  void DoImport(Batch& batch);
  Batch ReadyToImport(Batch& batch);
  void SendImports(Batch& group);
  void DoWaitImport(Batch& batch);
  void DoDeleteImport(Batch& batch);
  // The Autopilot service is done with the job's import record: on to the device (or to the
  // failure the record reported), the record to the background lane.
  void MoveOnFromRecord(Slot& slot);
  // Moves the job's import record to import_id_to_delete: the next save queues its deletion.
  static void LetGoOfImportRecord(Slot& slot);
  // The background lane: deletes import records whose jobs moved on, only while the write
  // budget has room to spare, one batch at a time (import_deletions.cc).
  void MaybeDeleteImportRecords(int64_t now);
  void DeleteImportRecords();
  void DoWaitDevice(Batch& batch);
  // The Autopilot devices `ids` name, in order (nullopt: not there): from one list of the
  // tenant's devices when many jobs wait, since a page answers for up to ~1000 of them; else
  // one read each ($batch).
  std::vector<Result<std::optional<AutopilotDevice>>> ReadAutopilotDevices(
      const std::vector<std::string>& ids);
  // Jobs waiting on their Autopilot device from which one list costs less than a read each
  // (Graph counts each $batch member): twice the pages the last list took.
  size_t DeviceListThreshold() const;
  void DoFindEntraDevice(Batch& batch);
  void DoAddToGroup(Batch& batch);
  void DoSetProperties(Batch& batch);
  void DoWaitProfile(Batch& batch);
  void MaybeSync();

  // Saves the slot's job in `phase` (restarting its deadline when the visible step changes).
  void Advance(Slot& slot, ImportPhase phase);
  // Ends the job as failed with `error`; the import record is deleted first if there is one.
  void Fail(Slot& slot, RequestError error);
  // Ends the job as completed; `step` says how when it is not the usual "Ready".
  void Complete(Slot& slot, const std::string& step = "");
  // Nothing moved: poll again when a change is likely.
  void Quiet(Slot& slot);
  // The job leaves its phase now: a wait's length goes to the step times.
  void NoteWaitEnded(const Slot& slot, int64_t now);
  // Loads the recent step times once, and saves the new ones (on the engine's thread).
  void KeepStepTimes();
  // A call failed: retry later, or fail the job if the error is final.
  void CallFailed(Slot& slot, const Status& status);
  bool PastDeadline(Slot& slot);
  // False when the store refused (the job stays as it was in the store).
  bool Save(Slot& slot, RequestState state, const std::string& step,
            const std::optional<RequestError>& error);

  RequestStore& store_;
  GraphApi& graph_;
  const Clock& clock_;
  ImportSettings settings_;
  Executor executor_;

  std::mutex mu_;  // guards the members below (with cv_)
  std::condition_variable cv_;
  std::map<std::string, std::shared_ptr<Slot>> slots_;
  int64_t next_refresh_ms_ = 0;
  int64_t last_sync_ms_ = 0;
  int64_t next_deletion_check_ms_ = 0;
  // Pages the last list of devices took; before the first, as if 10 (a list is tried once 20
  // jobs wait, so a tenant with 50,000 devices is not listed for two of them).
  std::atomic<int64_t> device_list_pages_{10};
  StepTimes step_times_;
  bool step_times_loaded_ = false;  // engine thread only
  bool deleting_records_ = false;
  bool stopping_ = false;
  int busy_batches_ = 0;
  std::map<ImportPhase, int> busy_phases_;
  std::thread thread_;
  std::function<void()> on_change_;
};

}  // namespace apm
