// Keeps all Graph calls of one tenant under the documented Intune limits (writes and all
// requests per 20 s window), shared by every job, so a burst of approvals slows down instead
// of being throttled. Limits: docs/graph-facts.md#throttling.
#pragma once

#include <chrono>
#include <deque>
#include <mutex>
#include <optional>

#include "server/clock.h"

namespace apm {

class RequestBudget {
 public:
  struct Limits {
    int writes_per_window = 100;     // POST/PUT/PATCH/DELETE per app per tenant (safe default)
    int requests_per_window = 1000;  // any request per app per tenant
    std::chrono::milliseconds window{20'000};
    // Added to the window: a slot we count as free at t+window left our side a little before
    // Graph counted it, so without slack the first request of the next window can be a 429.
    std::chrono::milliseconds slack{1'000};
  };

  RequestBudget(const Clock& clock, Limits limits);

  // Takes a slot now and returns nullopt, or takes nothing and returns how long to wait
  // before asking again.
  std::optional<std::chrono::milliseconds> TryAcquire(bool write);

 private:
  void Forget(int64_t now);

  const Clock& clock_;
  Limits limits_;
  std::mutex mu_;               // guards writes_ and all_
  std::deque<int64_t> writes_;  // ms of the slots taken within the window, oldest first
  std::deque<int64_t> all_;
};

}  // namespace apm
