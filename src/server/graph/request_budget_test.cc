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

TEST(RequestBudget, ABudgetSpentElsewhereWaitsAWholeWindowFromThen) {
  ManualClock clock;
  RequestBudget budget(clock, {.writes_per_window = 3,
                               .requests_per_window = 5,
                               .window = milliseconds(20'000),
                               .slack = milliseconds(1'000)});
  budget.AssumeSpentAt(clock.NowMs() - 4'000);  // the other engine ran until 4 s ago
  std::optional<milliseconds> wait = budget.TryAcquire(false);
  ASSERT_TRUE(wait.has_value());
  EXPECT_EQ(*wait, milliseconds(17'000));
  clock.Advance(*wait);
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(budget.TryAcquire(true).has_value());
  EXPECT_TRUE(budget.TryAcquire(true).has_value());  // and then the usual limits
}

TEST(RequestBudget, ASlotCountsFromTheAnswerNotOnlyFromTheSending) {
  ManualClock clock;
  RequestBudget budget(clock, {.writes_per_window = 1,
                               .requests_per_window = 100,
                               .window = milliseconds(20'000),
                               .slack = milliseconds(0)});
  int64_t taken_at = -1;
  ASSERT_FALSE(budget.TryAcquire(true, &taken_at).has_value());
  EXPECT_EQ(taken_at, clock.NowMs());
  clock.Advance(seconds(3));  // a slow answer: Graph may have counted it this late
  budget.Completed(true, taken_at);
  clock.Advance(seconds(18));  // 21 s after sending, 18 s after the answer
  std::optional<milliseconds> wait = budget.TryAcquire(true);
  ASSERT_TRUE(wait.has_value());
  EXPECT_EQ(*wait, milliseconds(2'000));
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
