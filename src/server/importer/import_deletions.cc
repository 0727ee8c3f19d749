// ImportEngine's background lane: import records whose jobs moved on are deleted here, at the
// lowest priority of the write budget, and retried until Graph confirms (a record already gone
// counts as deleted). The queue is in the store, so a restart forgets none.
#include <algorithm>

#include "server/importer/import_engine.h"
#include "server/logging.h"

namespace apm {

namespace {
constexpr int kDeletionBatch = 20;  // one $batch
}

void ImportEngine::MaybeDeleteImportRecords(int64_t now) {
  {
    std::lock_guard lock(mu_);
    if (deleting_records_ || stopping_ || now < next_deletion_check_ms_) return;
    next_deletion_check_ms_ = now + 1000;
  }
  if (!graph_.HasSpareWrites()) return;  // user-visible writes first
  {
    std::lock_guard lock(mu_);
    deleting_records_ = true;
    ++busy_batches_;
  }
  executor_([this] {
    DeleteImportRecords();
    std::lock_guard lock(mu_);
    deleting_records_ = false;
    --busy_batches_;
    cv_.notify_all();
  });
}

void ImportEngine::DeleteImportRecords() {
  int64_t now = clock_.NowMs();
  Result<std::vector<ImportRecordDeletion>> due = store_.DueImportDeletions(now, kDeletionBatch);
  if (!due.ok()) {
    LogWarn("import record deletions could not be read", {{"error", due.status().message()}});
    return;
  }
  if (due->empty()) return;
  std::vector<std::string> ids;
  for (const ImportRecordDeletion& d : *due) ids.push_back(d.import_id);
  std::vector<Status> results = graph_.DeleteImports(ids);
  std::vector<std::string> done, retry;
  int64_t most_attempts = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (results[i].ok()) {
      done.push_back(ids[i]);
      continue;
    }
    retry.push_back(ids[i]);
    most_attempts = std::max(most_attempts, (*due)[i].attempts);
    LogWarn("import record not deleted yet; will be retried", {{"request", (*due)[i].request_id},
                                                               {"import_id", ids[i]},
                                                               {"error", results[i].message()}});
  }
  // Backs off like a failing step, from a poll's time up to ten times the longest.
  int64_t backoff =
      std::min<int64_t>(settings_.poll_min.count() << std::min<int64_t>(most_attempts, 8),
                        settings_.poll_max.count() * 10);
  Status saved = store_.FinishImportDeletions(done, retry, clock_.NowMs() + backoff);
  if (!saved.ok()) {
    // Deleted in Graph but still queued: the next round deletes again and Graph answers 404.
    LogWarn("import record deletions not recorded", {{"error", saved.message()}});
    return;
  }
  if (done.size() == size_t(kDeletionBatch)) {
    std::lock_guard lock(mu_);
    next_deletion_check_ms_ = 0;  // more may be waiting: the next round looks again
  }
}

}  // namespace apm
