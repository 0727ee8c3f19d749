#include "server/store/caching_request_store.h"

#include <functional>

namespace apm {

CachingRequestStore::CachingRequestStore(RequestStore& inner, size_t capacity)
    : inner_(inner), shard_capacity_(std::max<size_t>(1, capacity / kShards)) {}

CachingRequestStore::Shard& CachingRequestStore::ShardFor(const std::string& id) {
  return shards_[std::hash<std::string>{}(id) % kShards];
}

void CachingRequestStore::Evict(const std::string& id) {
  Shard& s = ShardFor(id);
  std::lock_guard lock(s.mu);
  s.entries.erase(id);
  ++s.generation;
}

void CachingRequestStore::Clear() {
  for (Shard& s : shards_) {
    std::lock_guard lock(s.mu);
    s.entries.clear();
    ++s.generation;
  }
}

size_t CachingRequestStore::size() {
  size_t n = 0;
  for (Shard& s : shards_) {
    std::lock_guard lock(s.mu);
    n += s.entries.size();
  }
  return n;
}

Result<StoredRequest> CachingRequestStore::Get(const std::string& id) {
  Shard& s = ShardFor(id);
  uint64_t generation;
  {
    std::lock_guard lock(s.mu);
    auto it = s.entries.find(id);
    if (it != s.entries.end()) return it->second;
    generation = s.generation;
  }
  Result<StoredRequest> r = inner_.Get(id);
  if (r.ok() && r->id == id) {
    std::lock_guard lock(s.mu);
    if (s.generation != generation) return r;  // evicted meanwhile: r may already be stale
    // A full shard starts over: cheaper than LRU bookkeeping, and polls refill it at once.
    if (s.entries.size() >= shard_capacity_) s.entries.clear();
    s.entries.insert_or_assign(id, *r);
  }
  return r;
}

Result<CreateOutcome> CachingRequestStore::Create(const StoredRequest& r, int64_t max_open,
                                                  const std::string& alias) {
  return inner_.Create(r, max_open, alias);
}

Result<StoredRequest> CachingRequestStore::GetWithHash(const std::string& id) {
  return inner_.GetWithHash(id);
}

Result<StoredRequest> CachingRequestStore::Transition(const std::string& id,
                                                      std::span<const RequestState> from,
                                                      RequestState to, const std::string& step,
                                                      const std::optional<RequestError>& error,
                                                      int64_t now_ms) {
  Result<StoredRequest> r = inner_.Transition(id, from, to, step, error, now_ms);
  Evict(id);
  if (r.ok()) Evict(r->id);
  return r;
}

Result<StoredRequest> CachingRequestStore::Approve(const std::string& id, const Approval& approval,
                                                   int64_t now_ms) {
  Result<StoredRequest> r = inner_.Approve(id, approval, now_ms);
  Evict(id);
  if (r.ok()) Evict(r->id);
  return r;
}

Status CachingRequestStore::SaveRegistration(const std::string& id, const std::string& registration,
                                             int64_t now_ms) {
  Status s = inner_.SaveRegistration(id, registration, now_ms);
  Evict(id);
  return s;
}

Result<ImportJob> CachingRequestStore::GetJob(const std::string& request_id) {
  return inner_.GetJob(request_id);
}

Result<std::vector<ImportJob>> CachingRequestStore::OpenJobs(int limit) {
  return inner_.OpenJobs(limit);
}

Result<StoredRequest> CachingRequestStore::SaveJob(const ImportJob& job, RequestState state,
                                                   const std::string& step,
                                                   const std::optional<RequestError>& error,
                                                   int64_t now_ms) {
  Result<StoredRequest> r = inner_.SaveJob(job, state, step, error, now_ms);
  Evict(job.request_id);
  return r;
}

Result<int64_t> CachingRequestStore::ExpirePending(int64_t now_ms) {
  Result<int64_t> n = inner_.ExpirePending(now_ms);
  if (!n.ok() || *n > 0) Clear();
  return n;
}

Result<int64_t> CachingRequestStore::PurgeFinishedBefore(int64_t cutoff_ms) {
  Result<int64_t> n = inner_.PurgeFinishedBefore(cutoff_ms);
  if (!n.ok() || *n > 0) Clear();
  return n;
}

Result<std::vector<RequestChange>> CachingRequestStore::ChangesSince(int64_t seq, int64_t* latest) {
  Result<std::vector<RequestChange>> changes = inner_.ChangesSince(seq, latest);
  if (changes.ok()) {
    for (const RequestChange& c : *changes) Evict(c.id);
  }
  return changes;
}

Result<std::map<RequestState, int64_t>> CachingRequestStore::CountByState() {
  return inner_.CountByState();
}

Result<std::vector<StoredRequest>> CachingRequestStore::List(const RequestFilter& filter) {
  return inner_.List(filter);
}

Status CachingRequestStore::Ping() {
  return inner_.Ping();
}

}  // namespace apm
