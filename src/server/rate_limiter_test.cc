#include "server/rate_limiter.h"

#include <gtest/gtest.h>

namespace apm {
namespace {

TEST(RateLimiter, BurstThenRefill) {
  ManualClock clock;
  RateLimiter limiter(clock, /*tokens_per_minute=*/6, /*burst=*/3);
  EXPECT_FALSE(limiter.Take("a").has_value());
  EXPECT_FALSE(limiter.Take("a").has_value());
  EXPECT_FALSE(limiter.Take("a").has_value());
  std::optional<int64_t> wait = limiter.Take("a");
  ASSERT_TRUE(wait.has_value());
  EXPECT_EQ(*wait, 10);                         // one token every 10 s
  EXPECT_FALSE(limiter.Take("b").has_value());  // other addresses are separate
  clock.Advance(std::chrono::seconds(10));
  EXPECT_FALSE(limiter.Take("a").has_value());
  EXPECT_TRUE(limiter.Take("a").has_value());
}

TEST(RateLimiter, SweepForgetsFullBuckets) {
  ManualClock clock;
  RateLimiter limiter(clock, 60, 2);
  limiter.Take("a");
  limiter.Take("b");
  EXPECT_EQ(limiter.Sweep(), 0u);
  clock.Advance(std::chrono::seconds(5));
  EXPECT_EQ(limiter.Sweep(), 2u);
}

}  // namespace
}  // namespace apm
