// What the status page (/autopilot/status) and /metrics show about the service: the latest
// set-up checks, the last 30 days' statistics, requests waiting for approval, and the Graph
// budget the engine uses. The store's part is read at most once per kStatsMaxAge.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "server/clock.h"
#include "server/doctor/doctor.h"
#include "server/graph/graph_client.h"
#include "server/status/service_stats.h"
#include "server/store/request_store.h"

namespace apm {

// The engine's Graph client now (only on the instance that runs the engine).
struct GraphUse {
  int64_t throttled = 0;  // 429s although the budget allowed the call, since the engine started
  GraphClient::BudgetUse intune;
  GraphClient::BudgetUse directory;
};

struct ServiceSnapshot {
  int64_t at = 0;  // when the store's part was read (ms)
  ServiceStats stats;
  bool capped = false;  // more requests changed than kTimelinesRead: the figures are of those
  int64_t pending = 0;
  int64_t oldest_pending_at = 0;  // created_at of the oldest pending request; 0: none
  std::optional<DoctorRun> doctor;
  std::optional<GraphUse> graph;  // nullopt: another instance runs the engine, or none does
};

class ServiceStatus {
 public:
  struct Sources {
    std::function<std::optional<DoctorRun>()> doctor;  // empty: the checks do not run here
    std::function<std::optional<GraphUse>()> graph;
  };
  // How old the figures may be: for /metrics (the maintenance timer refreshes them) and for a
  // page, whose reader has just seen something happen.
  static constexpr std::chrono::seconds kStatsMaxAge{60};
  static constexpr std::chrono::seconds kPageMaxAge{10};
  // Requests read for the statistics at most (the most recently changed).
  static constexpr int kTimelinesRead = 50'000;

  ServiceStatus(RequestStore& store, const Clock& clock, Sources sources);
  // Reads the store when the figures are older than `max_age` (the page, on the blocking pool;
  // the maintenance timer, so /metrics has them). Fails only when the store cannot be read
  // and nothing was read before.
  Result<ServiceSnapshot> Snapshot(std::chrono::seconds max_age = kStatsMaxAge);
  // The latest figures without touching the store (/metrics renders on an I/O thread).
  std::optional<ServiceSnapshot> Cached();
  // The figures in Prometheus' text format (nothing before the first read).
  void AppendMetrics(std::string& out);

 private:
  ServiceSnapshot WithLiveParts(ServiceSnapshot s) const;

  RequestStore& store_;
  const Clock& clock_;
  Sources sources_;
  std::mutex read_mu_;  // one store read at a time
  std::mutex mu_;       // guards cached_ and last_read_at_
  std::optional<ServiceSnapshot> cached_;
  int64_t last_read_at_ = 0;  // the last attempt, failed or not: a failing store is not hammered
};

}  // namespace apm
