#include "server/status/service_stats.h"

#include <gtest/gtest.h>

namespace apm {
namespace {

constexpr int64_t kDay = 86'400'000;
constexpr int64_t kNow = 1'790'000'000'000 + 12 * 3'600'000;  // noon, some day

using S = RequestState;

// A request through the given states, each entered `gaps[i]` ms after the previous one.
RequestTimeline Through(std::string id, int64_t created_at, std::vector<S> states,
                        std::vector<int64_t> gaps) {
  RequestTimeline t;
  t.id = std::move(id);
  t.created_at = created_at;
  int64_t at = created_at;
  for (size_t i = 0; i < states.size(); ++i) {
    if (i > 0) at += gaps[i - 1];
    t.steps.push_back({at, states[i], ""});
  }
  t.state = states.back();
  if (IsTerminal(t.state)) t.finished_at = at;
  return t;
}

const StepDurations& Step(const ServiceStats& s, std::string_view name) {
  for (const StepDurations& d : s.steps) {
    if (d.name == name) return d;
  }
  static StepDurations none;
  ADD_FAILURE() << "no step " << name;
  return none;
}

TEST(ServiceStats, CountsImportsPerDayByOutcomeAndOnlyImports) {
  std::vector<RequestTimeline> t;
  t.push_back(Through("a", kNow - 3600'000,
                      {S::kPendingApproval, S::kApproved, S::kImporting, S::kCompleted},
                      {60'000, 1000, 5000}));
  t.push_back(
      Through("b", kNow - 2 * kDay, {S::kPendingApproval, S::kApproved, S::kFailed}, {1000, 1000}));
  t.back().error = RequestError{806, "ZtdDeviceAlreadyAssigned", "elsewhere"};
  // Rejected and expired requests are no imports; a request older than the window is not counted.
  t.push_back(Through("c", kNow - kDay, {S::kPendingApproval, S::kRejected}, {1000}));
  t.push_back(Through("d", kNow - 40 * kDay, {S::kPendingApproval, S::kApproved, S::kCompleted},
                      {1000, 1000}));
  ServiceStats s = ComputeServiceStats(t, kNow);
  ASSERT_EQ(s.days.size(), size_t(kStatusDays));
  EXPECT_EQ(s.days.back().day_start_ms, kNow / kDay * kDay);
  EXPECT_EQ(s.days.back().completed, 1);
  EXPECT_EQ(s.days[kStatusDays - 3].failed, 1);
  EXPECT_EQ(s.completed, 1);
  EXPECT_EQ(s.failed, 1);
  ASSERT_EQ(s.failures.size(), 1u);
  EXPECT_EQ(s.failures[0].code, 806);
  EXPECT_EQ(s.failures[0].recent_ids, std::vector<std::string>{"b"});
}

TEST(ServiceStats, StepTimesAreMedianAndP90OfStepsThatEndedByState) {
  std::vector<RequestTimeline> t;
  // Ten imports taking 1..10 s; the second step text within "importing" is the same state.
  for (int i = 1; i <= 10; ++i) {
    RequestTimeline r = Through("r" + std::to_string(i), kNow - kDay,
                                {S::kPendingApproval, S::kApproved, S::kImporting, S::kImporting,
                                 S::kWaitingForSync, S::kCompleted},
                                {i * 60'000, 10, i * 500, i * 500, 2000});
    t.push_back(r);
  }
  // Still importing: its import has not ended, its approval has.
  t.push_back(
      Through("open", kNow - 1000, {S::kPendingApproval, S::kApproved, S::kImporting}, {100, 100}));
  // Expired: waited, but nobody decided.
  t.push_back(Through("exp", kNow - kDay, {S::kPendingApproval, S::kExpired}, {3'600'000}));
  ServiceStats s = ComputeServiceStats(t, kNow);
  const StepDurations& imp = Step(s, "import");
  EXPECT_EQ(imp.count, 10);
  EXPECT_EQ(imp.median_ms, 5000);
  EXPECT_EQ(imp.p90_ms, 9000);
  const StepDurations& approval = Step(s, "approval");
  EXPECT_EQ(approval.count, 11);
  EXPECT_EQ(approval.median_ms, 5 * 60'000);
  EXPECT_EQ(approval.p90_ms, 9 * 60'000);
  EXPECT_EQ(Step(s, "sync").median_ms, 2000);
  EXPECT_EQ(Step(s, "profile").count, 0);
}

TEST(ServiceStats, FailuresGroupByCodeMostFrequentFirstWithTheNewestIds) {
  std::vector<RequestTimeline> t;
  for (int i = 0; i < 7; ++i) {
    t.push_back(Through("x" + std::to_string(i), kNow - kDay + i * 1000,
                        {S::kPendingApproval, S::kApproved, S::kFailed}, {10, 10}));
    t.back().error = RequestError{808, "ZtdDeviceAssignedToOtherTenant", "other tenant"};
  }
  t.push_back(Through("y", kNow - kDay, {S::kPendingApproval, S::kApproved, S::kFailed}, {10, 10}));
  t.back().error = RequestError{0, "StepTimedOut", "timed out"};
  ServiceStats s = ComputeServiceStats(t, kNow);
  ASSERT_EQ(s.failures.size(), 2u);
  EXPECT_EQ(s.failures[0].code, 808);
  EXPECT_EQ(s.failures[0].count, 7);
  EXPECT_EQ(s.failures[0].recent_ids, (std::vector<std::string>{"x6", "x5", "x4", "x3", "x2"}));
  EXPECT_EQ(s.failures[1].name, "StepTimedOut");
}

}  // namespace
}  // namespace apm
