// Keeps all Graph calls of one tenant under the documented Intune limits (writes and all
// requests per 20 s window), shared by every job, so a burst of approvals slows down instead
// of being throttled. Limits: docs/graph-facts.md#throttling.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <set>

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

  // Takes a slot now and returns nullopt (and the slot's time in `taken_at`), or takes nothing
  // and returns how long to wait before asking again.
  std::optional<std::chrono::milliseconds> TryAcquire(bool write, int64_t* taken_at = nullptr);
  // The request of the slot taken at `taken_at` is over and left this process `sends` times:
  // it counts from now, once per send (none when it never left). Graph counts a request when
  // it arrives, which a slow link or a busy machine can delay; counting from the end of the
  // call is never earlier than Graph does.
  void Completed(bool write, int64_t taken_at, int sends = 1);

  // Counts the whole allowance as taken at `at_ms`: another process (the engine's previous
  // holder) may have spent it, and Graph still counts that until the window has passed.
  void AssumeSpentAt(int64_t at_ms);

  // The slots counted within the window now.
  struct Usage {
    int writes = 0;
    int requests = 0;
  };
  Usage InWindow();

 private:
  void Forget(int64_t now);
  // How long until `slots` holds fewer than `limit` within the window; 0 when it does now.
  int64_t WaitFor(const std::multiset<int64_t>& slots, int limit, int64_t now) const;

  const Clock& clock_;
  Limits limits_;
  std::mutex mu_;                  // guards writes_ and all_
  std::multiset<int64_t> writes_;  // ms of the slots within the window (sent or answered)
  std::multiset<int64_t> all_;
};

}  // namespace apm
