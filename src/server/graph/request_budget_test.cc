#include "server/graph/request_budget.h"

#include <gtest/gtest.h>

namespace apm {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// A 20 s window like Graph's.
RequestBudget::Limits Limits(int writes, int requests, milliseconds slack) {
  return {.writes_per_window = writes,
          .requests_per_window = requests,
          .window = milliseconds(20'000),
          .slack = slack};
}

TEST(RequestBudget, WritesAreLimitedPerWindow) {
  ManualClock clock;
  RequestBudget budget(clock, Limits(3, 100, milliseconds(0)));
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
  RequestBudget budget(clock, Limits(3, 5, milliseconds(1000)));
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
  RequestBudget budget(clock, Limits(1, 100, milliseconds(0)));
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
  RequestBudget budget(clock, Limits(10, 2, milliseconds(0)));
  EXPECT_FALSE(budget.TryAcquire(false).has_value());
  EXPECT_FALSE(budget.TryAcquire(false).has_value());
  EXPECT_TRUE(budget.TryAcquire(false).has_value());
  EXPECT_TRUE(budget.TryAcquire(true).has_value());  // a write is a request as well
  clock.Advance(seconds(20));
  EXPECT_FALSE(budget.TryAcquire(true).has_value());
}

TEST(RequestBudget, SlackKeepsASlotTakenALittleLongerThanGraphDoes) {
  ManualClock clock;
  RequestBudget budget(clock, Limits(1, 100, milliseconds(1000)));
  EXPECT_FALSE(budget.TryAcquire(true));
  clock.Advance(milliseconds(20'000));
  std::optional<milliseconds> wait = budget.TryAcquire(true);
  ASSERT_TRUE(wait);
  EXPECT_EQ(*wait, milliseconds(1'000));
  clock.Advance(*wait);
  EXPECT_FALSE(budget.TryAcquire(true));
}

TEST(RequestBudget, ARequestSentTwiceTakesTwoSlotsAndOneNeverSentTakesNone) {
  ManualClock clock;
  RequestBudget budget(clock, Limits(3, 100, milliseconds(0)));
  int64_t resent = -1, unsent = -1;
  ASSERT_FALSE(budget.TryAcquire(true, &resent));
  ASSERT_FALSE(budget.TryAcquire(true, &unsent));
  budget.Completed(true, resent, 2);  // libcurl re-sent it on a fresh connection
  budget.Completed(true, unsent, 0);  // no connection: Graph never saw it
  EXPECT_FALSE(budget.TryAcquire(true));
  EXPECT_TRUE(budget.TryAcquire(true)) << "two sends and one acquire fill three slots";
}

TEST(RequestBudget, AnOverfullWindowWaitsUntilEnoughSlotsHaveLeftIt) {
  ManualClock clock;
  RequestBudget budget(clock, Limits(2, 100, milliseconds(0)));
  int64_t first = -1, second = -1;
  ASSERT_FALSE(budget.TryAcquire(true, &first));
  clock.Advance(seconds(1));
  ASSERT_FALSE(budget.TryAcquire(true, &second));
  budget.Completed(true, first, 1);  // counts from t=1 s
  clock.Advance(seconds(1));
  budget.Completed(true, second, 2);  // sent twice: two slots from t=2 s
  clock.Advance(seconds(3));          // t=5 s; three slots of two are in the window
  std::optional<milliseconds> wait = budget.TryAcquire(true);
  ASSERT_TRUE(wait);
  // One free slot needs two of the three to leave: the t=1 s one and one from t=2 s.
  EXPECT_EQ(*wait, milliseconds(17'000));
  clock.Advance(*wait);
  EXPECT_FALSE(budget.TryAcquire(true));
}

}  // namespace
}  // namespace apm
