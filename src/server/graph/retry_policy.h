// When and how long to wait before retrying a Graph call: exponential backoff with full
// jitter for server errors, timeouts and lost connections; Retry-After when Graph gives one.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>

#include "server/graph/graph_error.h"

namespace apm {

class RetryPolicy {
 public:
  // The longest Retry-After honoured within one call.
  static constexpr std::chrono::milliseconds kMaxRetryAfter{300'000};

  struct Options {
    int max_attempts = 6;  // including the first
    std::chrono::milliseconds base{500};
    std::chrono::milliseconds cap{60'000};
  };
  // `uniform(n)` returns a random integer in [0, n]; injected so tests are deterministic.
  RetryPolicy(Options options, std::function<int64_t(int64_t)> uniform);

  // After failed attempt number `attempt` (1 = the first try): the delay before the next
  // try, or nullopt when the error is final or the attempts are used up.
  std::optional<std::chrono::milliseconds> NextDelay(int attempt, const GraphError& error) const;

 private:
  Options options_;
  std::function<int64_t(int64_t)> uniform_;
};

}  // namespace apm
