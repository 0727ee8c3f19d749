#include "server/graph/retry_policy.h"

#include <gtest/gtest.h>

namespace apm {
namespace {

using std::chrono::milliseconds;

GraphError Error(int status, std::optional<int> retry_after = std::nullopt) {
  GraphError e;
  e.http_status = status;
  e.retry_after_seconds = retry_after;
  return e;
}

TEST(RetryPolicy, BackoffGrowsAndIsCapped) {
  // The "random" source returns its upper bound, so the delays are the ceilings.
  RetryPolicy p({.max_attempts = 10, .base = milliseconds(500), .cap = milliseconds(5000)},
                [](int64_t n) { return n; });
  EXPECT_EQ(p.NextDelay(1, Error(503)), milliseconds(500));
  EXPECT_EQ(p.NextDelay(2, Error(500)), milliseconds(1000));
  EXPECT_EQ(p.NextDelay(3, Error(0)), milliseconds(2000));    // no answer at all
  EXPECT_EQ(p.NextDelay(5, Error(504)), milliseconds(5000));  // capped
}

TEST(RetryPolicy, JitterStaysWithinTheCeiling) {
  int64_t seen_max = -1;
  RetryPolicy p({}, [&](int64_t n) {
    seen_max = n;
    return n / 3;
  });
  EXPECT_EQ(p.NextDelay(2, Error(502)), milliseconds(1000 / 3));
  EXPECT_EQ(seen_max, 1000);
}

TEST(RetryPolicy, HonoursRetryAfterAndStops) {
  RetryPolicy p({.max_attempts = 3, .base = milliseconds(500), .cap = milliseconds(60000)},
                [](int64_t n) { return n; });
  EXPECT_EQ(p.NextDelay(1, Error(429, 42)), milliseconds(42'000));
  // A huge Retry-After neither overflows nor parks a worker for hours.
  EXPECT_EQ(p.NextDelay(1, Error(429, 2'000'000'000)), RetryPolicy::kMaxRetryAfter);
  EXPECT_FALSE(p.NextDelay(1, Error(400)).has_value());  // final
  EXPECT_FALSE(p.NextDelay(1, Error(404)).has_value());
  EXPECT_FALSE(p.NextDelay(3, Error(503)).has_value());  // attempts used up
}

}  // namespace
}  // namespace apm
