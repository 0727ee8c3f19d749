#include "server/importer/step_times.h"

#include <algorithm>
#include <utility>

namespace apm {

void StepTimes::Add(ImportPhase phase, int64_t took_ms, int64_t finished_at, bool fresh) {
  took_ms = std::max<int64_t>(0, took_ms);
  std::lock_guard lock(mu_);
  std::deque<int64_t>& waits = recent_[phase];
  waits.push_back(took_ms);
  while (waits.size() > kKept) waits.pop_front();
  if (fresh) unsaved_.push_back({.phase = phase, .took_ms = took_ms, .finished_at = finished_at});
}

std::vector<StepTime> StepTimes::TakeUnsaved() {
  std::lock_guard lock(mu_);
  return std::exchange(unsaved_, {});
}

std::vector<int64_t> StepTimes::Recent(ImportPhase phase) const {
  std::lock_guard lock(mu_);
  auto it = recent_.find(phase);
  if (it == recent_.end()) return {};
  return {it->second.begin(), it->second.end()};
}

int64_t StepTimes::NextPollIn(ImportPhase phase, int64_t waited_ms, int64_t floor_ms,
                              int64_t ceiling_ms) const {
  auto bounded = [&](int64_t ms) { return std::clamp(ms, floor_ms, ceiling_ms); };
  std::vector<int64_t> waits = Recent(phase);
  // Without a history: about a tenth of the time waited, so a change is seen late by ~5% of
  // the wait and a long wait costs few polls.
  if (waits.size() < kMinSamples) return bounded(waited_ms / 10);
  std::sort(waits.begin(), waits.end());
  int64_t earliest = waits[waits.size() / 10];    // ~10th percentile
  int64_t latest = waits[waits.size() * 9 / 10];  // ~90th percentile
  // Before the earliest likely moment: a few looks, not one, so that a tenant faster than its
  // history is noticed and the history (which counts what we observed) can follow it down.
  if (waited_ms < earliest) return bounded(std::min(earliest - waited_ms, earliest / 3));
  // The change is likely now: as often as the plain rule or about 20 looks across the likely
  // range, whichever is more often; at the floor only when that range is narrow (a tenant whose
  // waits vary from 1 to 60 minutes is not polled every few seconds for an hour).
  if (waited_ms <= latest + floor_ms) {
    return bounded(std::min(waited_ms / 10, (latest - earliest) / 20));
  }
  // Later than nearly all recent ones: something is slower today; back off as without history.
  return bounded(waited_ms / 10);
}

}  // namespace apm
