#include "server/importer/step_times.h"

#include <gtest/gtest.h>

namespace apm {
namespace {

constexpr int64_t kFloor = 1'000, kCeiling = 60'000;

TEST(StepTimesTest, WithoutAHistoryPollsAtATenthOfTheWait) {
  StepTimes times;
  for (int i = 0; i < int(StepTimes::kMinSamples) - 1; ++i)
    times.Add(ImportPhase::kWaitImport, 10'000);
  EXPECT_EQ(times.NextPollIn(ImportPhase::kWaitImport, 0, kFloor, kCeiling), kFloor);
  EXPECT_EQ(times.NextPollIn(ImportPhase::kWaitImport, 50'000, kFloor, kCeiling), 5'000);
  EXPECT_EQ(times.NextPollIn(ImportPhase::kWaitImport, 3'600'000, kFloor, kCeiling), kCeiling);
}

TEST(StepTimesTest, SleepsUntilTheChangeIsLikelyThenPollsAtTheFloor) {
  StepTimes times;
  for (int i = 0; i < 20; ++i) times.Add(ImportPhase::kWaitDevice, 30'000 + i * 1'000);  // 30–49 s
  // Early: a few looks before the earliest likely moment (a third of it at most).
  EXPECT_EQ(times.NextPollIn(ImportPhase::kWaitDevice, 0, kFloor, kCeiling), 32'000 / 3);
  EXPECT_EQ(times.NextPollIn(ImportPhase::kWaitDevice, 25'000, kFloor, kCeiling), 7'000);
  // Likely now: every floor.
  EXPECT_EQ(times.NextPollIn(ImportPhase::kWaitDevice, 32'000, kFloor, kCeiling), kFloor);
  EXPECT_EQ(times.NextPollIn(ImportPhase::kWaitDevice, 48'500, kFloor, kCeiling), kFloor);
  // Later than nearly every recent one: back off again.
  EXPECT_EQ(times.NextPollIn(ImportPhase::kWaitDevice, 120'000, kFloor, kCeiling), 12'000);
  // Another phase has no history of its own.
  EXPECT_EQ(times.NextPollIn(ImportPhase::kWaitProfile, 0, kFloor, kCeiling), kFloor);
}

TEST(StepTimesTest, AWideRangeOfLikelyWaitsIsNotPolledAtTheFloorThroughout) {
  StepTimes times;
  for (int i = 0; i < 20; ++i) times.Add(ImportPhase::kWaitProfile, 60'000 + i * 180'000);
  constexpr int64_t kFiveSeconds = 5'000;
  // Likely between 7 and 55 minutes: about 20 looks across that (144 s apart, at most the
  // ceiling), or the plain tenth of the wait where that is more often.
  EXPECT_EQ(times.NextPollIn(ImportPhase::kWaitProfile, 420'000, kFiveSeconds, kCeiling), 42'000);
  EXPECT_EQ(times.NextPollIn(ImportPhase::kWaitProfile, 1'800'000, kFiveSeconds, kCeiling),
            kCeiling);
}

TEST(StepTimesTest, KeepsOnlyTheNewestWaits) {
  StepTimes times;
  for (int i = 0; i < int(StepTimes::kKept); ++i) times.Add(ImportPhase::kWaitImport, 600'000);
  for (int i = 0; i < int(StepTimes::kKept); ++i) times.Add(ImportPhase::kWaitImport, 5'000);
  std::vector<int64_t> recent = times.Recent(ImportPhase::kWaitImport);
  ASSERT_EQ(recent.size(), StepTimes::kKept);
  EXPECT_EQ(recent.front(), 5'000);
  // The tenant got faster: the old slow waits no longer keep a job from being looked at.
  EXPECT_EQ(times.NextPollIn(ImportPhase::kWaitImport, 5'000, kFloor, kCeiling), kFloor);
}

TEST(StepTimesTest, AFasterTenantIsNoticedBeforeItsHistoryCatchesUp) {
  StepTimes times;
  for (int i = 0; i < 10; ++i) times.Add(ImportPhase::kWaitImport, 60'000);
  // Even when every recent wait took a minute, the first look comes after 20 s, not 60.
  EXPECT_EQ(times.NextPollIn(ImportPhase::kWaitImport, 0, kFloor, kCeiling), 20'000);
}

}  // namespace
}  // namespace apm
