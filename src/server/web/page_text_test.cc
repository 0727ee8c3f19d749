#include "server/web/page_text.h"

#include <gtest/gtest.h>

namespace apm::web {
namespace {

constexpr int64_t kNov27At0821 = 1'795'767'695'532;  // 2026-11-27T08:21:35.532Z

TEST(PageText, Times) {
  EXPECT_EQ(ShortTime(kNov27At0821), "2026-11-27 08:21 UTC");
  EXPECT_EQ(TimeOfDay(kNov27At0821), "08:21:35");
  EXPECT_EQ(Age(30'000), "less than a minute");
  EXPECT_EQ(Age(5 * 60'000), "5 min");
  EXPECT_EQ(Age(125 * 60'000), "2 h 5 min");
  EXPECT_EQ(Age(3 * 24 * 3'600'000LL), "3 days");
}

TEST(PageText, DurationsUseTwoUnitsAtMost) {
  EXPECT_EQ(Duration(850), "850 ms");
  EXPECT_EQ(Duration(12'400), "12 s");
  EXPECT_EQ(Duration(250'000), "4 min 10 s");
  EXPECT_EQ(Duration(240'000), "4 min");
  EXPECT_EQ(Duration(3 * 3'600'000 + 5 * 60'000 + 59'000), "3 h 5 min");
  EXPECT_EQ(Duration(2 * 86'400'000 + 4 * 3'600'000), "2 d 4 h");
}

TEST(PageText, DayStartIsMidnightUtcAndNamesNothingElse) {
  EXPECT_EQ(DayStartMs("2026-11-27"), 1'795'737'600'000);
  EXPECT_EQ(DayStartMs("1970-01-01"), 0);
  for (const char* bad : {"2026-02-30", "2026-13-01", "26-11-27", "2026/11/27", "yesterday", ""}) {
    EXPECT_FALSE(DayStartMs(bad)) << bad;
  }
}

TEST(PageText, CsvFieldsAreQuotedAndFormulasDefused) {
  EXPECT_EQ(CsvField("plain"), "\"plain\"");
  EXPECT_EQ(CsvField("say \"hi\""), "\"say \"\"hi\"\"\"");
  for (const char* formula : {"=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"}) {
    EXPECT_EQ(CsvField(formula).substr(0, 2), "\"'") << formula;
  }
  std::string line = CsvField("a") + "," + CsvField("b") + ",";
  EndCsvLine(&line);
  EXPECT_EQ(line, "\"a\",\"b\"\r\n");
}

TEST(PageText, LocalPathKeepsSignInOnThisSite) {
  EXPECT_EQ(LocalPath("/autopilot/abc?x=1"), "/autopilot/abc?x=1");
  for (const char* away : {"https://evil.example/", "//evil.example", "/\\evil.example", "",
                           "autopilot", "/a b", "/a\x7f"}) {
    EXPECT_EQ(LocalPath(away), "/") << away;
  }
}

TEST(PageText, OriginOfAUrl) {
  EXPECT_EQ(Origin("https://apm.contoso.com:8443/autopilot/x"), "https://apm.contoso.com:8443");
  EXPECT_EQ(Origin("http://h"), "http://h");
  EXPECT_EQ(Origin("not a url"), "");
}

TEST(PageText, LabelsForStatesAndVerdicts) {
  EXPECT_EQ(StateLabel(RequestState::kPendingApproval), "pending approval");
  EXPECT_EQ(StateLabel(RequestState::kCompleted), "completed");
  EXPECT_NE(VerificationText("mismatch").find("MISMATCH"), std::string::npos);
  EXPECT_NE(VerificationText("unverifiable").find("not verifiable"), std::string::npos);
  EXPECT_EQ(VerificationText("skipped"), "not checked");
}

TEST(PageText, ErrorsAndSteps) {
  EXPECT_EQ(ErrorText({806, "ZtdDeviceAlreadyAssigned", "already registered"}),
            "806 ZtdDeviceAlreadyAssigned: already registered");
  EXPECT_EQ(ErrorText({0, "StepTimedOut", ""}), "StepTimedOut");
  std::vector<RequestStep> steps = {
      {kNov27At0821, RequestState::kPendingApproval, "Waiting for approval"},
      {kNov27At0821 + 60'000, RequestState::kRejected, ""}};
  EXPECT_EQ(StepsText(steps), "08:21:35 Waiting for approval · 08:22:35 rejected");
  EXPECT_EQ(StepsText({}), "");
}

TEST(PageText, WhatAnApproverMayType) {
  EXPECT_TRUE(ValidDeviceName(""));
  EXPECT_TRUE(ValidDeviceName("KIOSK-%SERIAL%"));
  EXPECT_TRUE(ValidDeviceName("ABCDEFGHIJKLMNO"));
  EXPECT_FALSE(ValidDeviceName("ABCDEFGHIJKLMNOP"));  // 16
  EXPECT_FALSE(ValidDeviceName("has space"));
}

}  // namespace
}  // namespace apm::web
