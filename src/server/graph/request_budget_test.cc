#include "server/graph/request_budget.h"

#include <gtest/gtest.h>

namespace apm {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(RequestBudget, WritesAreLimitedPerWindow) {
  ManualClock clock;
  RequestBudget budget(clock, {.writes_per_window = 3,
                               .requests_per_window = 100,
                               .window = milliseconds(20'000),
                               .slack = milliseconds(0)});
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(budget.TryAcquire(true).has_value());
    clock.Advance(seconds(1));
  }
  // The fourth write must wait until the first leaves the window (t=0 + 20 s; now t=3 s).
  std::optional<milliseconds> wait = budget.TryAcquire(true);
  ASSERT_TRUE(wait.has_value());
  EXPECT_EQ(*wait, milliseconds(17'000));
  // Reads still pass.
  EXPECT_FALSE(budget.TryAcquire(false).has_value());
  clock.Advance(*wait);
  EXPECT_FALSE(budget.TryAcquire(true).has_value());
}

TEST(RequestBudget, AllRequestsAreLimitedToo) {
  ManualClock clock;
  RequestBudget budget(clock, {.writes_per_window = 10,
                               .requests_per_window = 2,
                               .window = milliseconds(20'000),
                               .slack = milliseconds(0)});
  EXPECT_FALSE(budget.TryAcquire(false).has_value());
  EXPECT_FALSE(budget.TryAcquire(false).has_value());
  EXPECT_TRUE(budget.TryAcquire(false).has_value());
  EXPECT_TRUE(budget.TryAcquire(true).has_value());  // a write is a request as well
  clock.Advance(seconds(20));
  EXPECT_FALSE(budget.TryAcquire(true).has_value());
}

TEST(RequestBudget, SlackKeepsASlotTakenALittleLongerThanGraphDoes) {
  ManualClock clock;
  RequestBudget budget(clock, {.writes_per_window = 1,
                               .requests_per_window = 100,
                               .window = milliseconds(20'000),
                               .slack = milliseconds(1'000)});
  EXPECT_FALSE(budget.TryAcquire(true));
  clock.Advance(milliseconds(20'000));
  std::optional<milliseconds> wait = budget.TryAcquire(true);
  ASSERT_TRUE(wait);
  EXPECT_EQ(*wait, milliseconds(1'000));
  clock.Advance(*wait);
  EXPECT_FALSE(budget.TryAcquire(true));
}

}  // namespace
}  // namespace apm
