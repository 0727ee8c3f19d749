#include "server/graph/request_budget.h"

#include <algorithm>

namespace apm {

RequestBudget::RequestBudget(const Clock& clock, Limits limits) : clock_(clock), limits_(limits) {}

void RequestBudget::Forget(int64_t now) {
  int64_t horizon = now - (limits_.window + limits_.slack).count();
  while (!writes_.empty() && *writes_.begin() <= horizon) writes_.erase(writes_.begin());
  while (!all_.empty() && *all_.begin() <= horizon) all_.erase(all_.begin());
}

int64_t RequestBudget::WaitFor(const std::multiset<int64_t>& slots, int limit, int64_t now) const {
  if (int(slots.size()) < limit) return 0;
  // Re-sent requests can put more than `limit` slots in the window: a slot frees up when the
  // one `limit` places from the newest leaves it.
  auto freeing = std::next(slots.begin(), long(slots.size()) - limit);
  return std::max<int64_t>(1, *freeing + (limits_.window + limits_.slack).count() - now);
}

std::optional<std::chrono::milliseconds> RequestBudget::TryAcquire(bool write, int64_t* taken_at) {
  int64_t now = clock_.NowMs();
  std::lock_guard lock(mu_);
  Forget(now);
  int64_t wait = WaitFor(all_, limits_.requests_per_window, now);
  if (write) wait = std::max(wait, WaitFor(writes_, limits_.writes_per_window, now));
  if (wait > 0) return std::chrono::milliseconds(wait);
  all_.insert(now);
  if (write) writes_.insert(now);
  if (taken_at) *taken_at = now;
  return std::nullopt;
}

void RequestBudget::Completed(bool write, int64_t taken_at, int sends) {
  int64_t now = clock_.NowMs();
  std::lock_guard lock(mu_);
  auto move = [&](std::multiset<int64_t>& slots) {
    if (auto it = slots.find(taken_at); it != slots.end()) slots.erase(it);
    for (int i = 0; i < sends; ++i) slots.insert(now);
  };
  move(all_);
  if (write) move(writes_);
}

RequestBudget::Usage RequestBudget::InWindow() {
  std::lock_guard lock(mu_);
  Forget(clock_.NowMs());
  return {.writes = int(writes_.size()), .requests = int(all_.size())};
}

void RequestBudget::AssumeSpentAt(int64_t at_ms) {
  std::lock_guard lock(mu_);
  writes_.clear();
  all_.clear();
  for (int i = 0; i < limits_.writes_per_window; ++i) writes_.insert(at_ms);
  for (int i = 0; i < limits_.requests_per_window; ++i) all_.insert(at_ms);
}

}  // namespace apm
