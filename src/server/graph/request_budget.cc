#include "server/graph/request_budget.h"

#include <algorithm>

namespace apm {

RequestBudget::RequestBudget(const Clock& clock, Limits limits) : clock_(clock), limits_(limits) {}

void RequestBudget::Forget(int64_t now) {
  int64_t horizon = now - (limits_.window + limits_.slack).count();
  while (!writes_.empty() && writes_.front() <= horizon) writes_.pop_front();
  while (!all_.empty() && all_.front() <= horizon) all_.pop_front();
}

std::optional<std::chrono::milliseconds> RequestBudget::TryAcquire(bool write) {
  int64_t now = clock_.NowMs();
  std::lock_guard lock(mu_);
  Forget(now);
  int64_t wait = 0;
  // A slot frees up when the oldest use in the window leaves it.
  if (int(all_.size()) >= limits_.requests_per_window) {
    wait = std::max(wait, all_.front() + (limits_.window + limits_.slack).count() - now);
  }
  if (write && int(writes_.size()) >= limits_.writes_per_window) {
    wait = std::max(wait, writes_.front() + (limits_.window + limits_.slack).count() - now);
  }
  if (wait > 0) return std::chrono::milliseconds(wait);
  all_.push_back(now);
  if (write) writes_.push_back(now);
  return std::nullopt;
}

}  // namespace apm
