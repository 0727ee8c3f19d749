// A RequestStore decorator that keeps recently read requests in memory, so that repeated
// status polls of a request cost no database round trip. Every change made through this store
// evicts the entry at once; changes made by other processes (admin commands, later other
// instances) evict it when the change feed reports them, which the long-poll watcher reads
// every 200 ms. Reads through aliases (old clients' GUIDs) are not cached.
#pragma once

#include <array>
#include <mutex>
#include <unordered_map>

#include "server/store/request_store.h"

namespace apm {

class CachingRequestStore : public RequestStore {
 public:
  // `capacity` bounds the number of cached requests (memory stays flat with any store size).
  CachingRequestStore(RequestStore& inner, size_t capacity = 16384);

  Result<CreateOutcome> Create(const StoredRequest& r, int64_t max_open,
                               const std::string& alias) override;
  Result<StoredRequest> Get(const std::string& id) override;
  Result<StoredRequest> GetWithHash(const std::string& id) override;
  Result<StoredRequest> Transition(const std::string& id, std::span<const RequestState> from,
                                   RequestState to, const std::string& step,
                                   const std::optional<RequestError>& error,
                                   int64_t now_ms) override;
  Result<int64_t> ExpirePending(int64_t now_ms) override;
  Result<int64_t> PurgeFinishedBefore(int64_t cutoff_ms) override;
  Result<std::vector<RequestChange>> ChangesSince(int64_t seq, int64_t* latest) override;
  Result<std::map<RequestState, int64_t>> CountByState() override;
  Result<std::vector<StoredRequest>> List(const RequestFilter& filter) override;
  Result<StoredRequest> Approve(const std::string& id, const Approval& approval,
                                int64_t now_ms) override;
  Result<ImportJob> GetJob(const std::string& request_id) override;
  Result<std::vector<ImportJob>> OpenJobs(int limit) override;
  Result<StoredRequest> SaveJob(const ImportJob& job, RequestState state, const std::string& step,
                                const std::optional<RequestError>& error, int64_t now_ms) override;
  Result<std::vector<RequestStep>> Steps(const std::string& id) override {
    return inner_.Steps(id);
  }
  Result<std::vector<RequestTimeline>> TimelinesSince(int64_t since_ms, int limit) override {
    return inner_.TimelinesSince(since_ms, limit);
  }
  // The deletion queue is not part of any request: straight through.
  Result<std::vector<ImportRecordDeletion>> DueImportDeletions(int64_t now_ms, int limit) override {
    return inner_.DueImportDeletions(now_ms, limit);
  }
  Status FinishImportDeletions(const std::vector<std::string>& done,
                               const std::vector<std::string>& retry,
                               int64_t retry_at_ms) override {
    return inner_.FinishImportDeletions(done, retry, retry_at_ms);
  }
  Result<int64_t> PendingImportDeletions() override { return inner_.PendingImportDeletions(); }
  Status RecordStepTimes(const std::vector<StepTime>& times) override {
    return inner_.RecordStepTimes(times);
  }
  Result<std::vector<StepTime>> RecentStepTimes(int per_phase) override {
    return inner_.RecentStepTimes(per_phase);
  }
  Status SaveRegistration(const std::string& id, const std::string& registration,
                          int64_t now_ms) override;
  Result<std::vector<StoredRequest>> PendingWithoutRegistration(int limit) override {
    return inner_.PendingWithoutRegistration(limit);
  }
  Status Ping() override;

  size_t size();

 private:
  static constexpr size_t kShards = 16;
  struct Shard {
    std::mutex mu;  // guards this shard's entries and generation
    std::unordered_map<std::string, StoredRequest> entries;
    // Bumped by every eviction: a read that raced with one must not insert what it read.
    uint64_t generation = 0;
  };
  Shard& ShardFor(const std::string& id);
  void Evict(const std::string& id);
  void Clear();

  RequestStore& inner_;
  size_t shard_capacity_;
  std::array<Shard, kShards> shards_;
};

}  // namespace apm
