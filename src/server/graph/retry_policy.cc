#include "server/graph/retry_policy.h"

#include <algorithm>

namespace apm {

RetryPolicy::RetryPolicy(Options options, std::function<int64_t(int64_t)> uniform)
    : options_(options), uniform_(std::move(uniform)) {}

std::optional<std::chrono::milliseconds> RetryPolicy::NextDelay(int attempt,
                                                                const GraphError& error) const {
  if (!IsRetryable(error) || attempt >= options_.max_attempts) return std::nullopt;
  // Graph's Retry-After is honoured as given (it is how throttling ends soonest).
  // (capped: a worker must not sleep for an hour on one answer; the job is tried again later)
  if (error.retry_after_seconds) {
    return std::min(std::chrono::milliseconds(int64_t(*error.retry_after_seconds) * 1000),
                    kMaxRetryAfter);
  }
  int shift = std::min(attempt - 1, 20);
  int64_t ceiling = std::min<int64_t>(options_.cap.count(), options_.base.count() << shift);
  return std::chrono::milliseconds(uniform_(ceiling));
}

}  // namespace apm
