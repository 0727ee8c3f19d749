// A RequestStore decorator that reports the latency of every operation to Metrics.
#pragma once

#include <chrono>

#include "server/metrics.h"
#include "server/store/request_store.h"

namespace apm {

class TimedRequestStore : public RequestStore {
 private:
  template <class F>
  auto Time(std::string_view op, F&& f) {
    auto start = std::chrono::steady_clock::now();
    auto result = f();
    metrics_.ObserveStore(
        op, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    return result;
  }

 public:
  TimedRequestStore(RequestStore& inner, Metrics& metrics) : inner_(inner), metrics_(metrics) {}

  Result<CreateOutcome> Create(const StoredRequest& r, int64_t max_open,
                               const std::string& alias) override {
    return Time("create", [&] { return inner_.Create(r, max_open, alias); });
  }
  Result<StoredRequest> Get(const std::string& id) override {
    return Time("get", [&] { return inner_.Get(id); });
  }
  Result<StoredRequest> GetWithHash(const std::string& id) override {
    return Time("get_with_hash", [&] { return inner_.GetWithHash(id); });
  }
  Result<StoredRequest> Transition(const std::string& id, std::span<const RequestState> from,
                                   RequestState to, const std::string& step,
                                   const std::optional<RequestError>& error,
                                   int64_t now_ms) override {
    return Time("transition", [&] { return inner_.Transition(id, from, to, step, error, now_ms); });
  }
  Result<int64_t> ExpirePending(int64_t now_ms) override {
    return Time("expire", [&] { return inner_.ExpirePending(now_ms); });
  }
  Result<int64_t> PurgeFinishedBefore(int64_t cutoff_ms) override {
    return Time("purge", [&] { return inner_.PurgeFinishedBefore(cutoff_ms); });
  }
  Result<std::vector<RequestChange>> ChangesSince(int64_t seq, int64_t* latest) override {
    return Time("changes", [&] { return inner_.ChangesSince(seq, latest); });
  }
  Result<std::map<RequestState, int64_t>> CountByState() override {
    return Time("count_by_state", [&] { return inner_.CountByState(); });
  }
  Result<std::vector<StoredRequest>> List(const RequestFilter& f) override {
    return Time("list", [&] { return inner_.List(f); });
  }
  Result<StoredRequest> Approve(const std::string& id, const Approval& a, int64_t now_ms) override {
    return Time("approve", [&] { return inner_.Approve(id, a, now_ms); });
  }
  Result<ImportJob> GetJob(const std::string& request_id) override {
    return Time("get_job", [&] { return inner_.GetJob(request_id); });
  }
  Result<std::vector<ImportJob>> OpenJobs(int limit) override {
    return Time("open_jobs", [&] { return inner_.OpenJobs(limit); });
  }
  Result<StoredRequest> SaveJob(const ImportJob& job, RequestState state, const std::string& step,
                                const std::optional<RequestError>& error, int64_t now_ms) override {
    return Time("save_job", [&] { return inner_.SaveJob(job, state, step, error, now_ms); });
  }
  Result<std::vector<RequestStep>> Steps(const std::string& id) override {
    return Time("steps", [&] { return inner_.Steps(id); });
  }
  Result<std::vector<RequestTimeline>> TimelinesSince(int64_t since_ms, int limit) override {
    return Time("timelines", [&] { return inner_.TimelinesSince(since_ms, limit); });
  }
  Result<std::vector<ImportRecordDeletion>> DueImportDeletions(int64_t now_ms, int limit) override {
    return Time("due_import_deletions", [&] { return inner_.DueImportDeletions(now_ms, limit); });
  }
  Status FinishImportDeletions(const std::vector<std::string>& done,
                               const std::vector<std::string>& retry,
                               int64_t retry_at_ms) override {
    return Time("finish_import_deletions",
                [&] { return inner_.FinishImportDeletions(done, retry, retry_at_ms); });
  }
  Result<int64_t> PendingImportDeletions() override {
    return Time("pending_import_deletions", [&] { return inner_.PendingImportDeletions(); });
  }
  Status RecordStepTimes(const std::vector<StepTime>& times) override {
    return Time("record_step_times", [&] { return inner_.RecordStepTimes(times); });
  }
  Result<std::vector<StepTime>> RecentStepTimes(int per_phase) override {
    return Time("recent_step_times", [&] { return inner_.RecentStepTimes(per_phase); });
  }
  Status SaveRegistration(const std::string& id, const std::string& registration,
                          int64_t now_ms) override {
    return Time("save_registration",
                [&] { return inner_.SaveRegistration(id, registration, now_ms); });
  }
  Result<std::vector<StoredRequest>> PendingWithoutRegistration(int limit) override {
    return Time("pending_without_registration",
                [&] { return inner_.PendingWithoutRegistration(limit); });
  }
  Status Ping() override {
    return Time("ping", [&] { return inner_.Ping(); });
  }

 private:
  RequestStore& inner_;
  Metrics& metrics_;
};

}  // namespace apm
