#include "server/web/status_charts.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <regex>

namespace apm::web {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr int64_t kDay = 86'400'000;

std::vector<DayOutcomes> Days() {
  std::vector<DayOutcomes> days;
  for (int i = 0; i < kStatusDays; ++i) {
    days.push_back({.day_start_ms = 1'790'208'000'000 + i * kDay, .completed = 0, .failed = 0});
  }
  return days;
}

// The heights of the rects with `cls`, in document order.
std::vector<double> Heights(const std::string& svg, const std::string& cls) {
  std::regex rect("<rect class=\"" + cls +
                  "\" x=\"[0-9.]+\" y=\"[0-9.]+\" width=\"[0-9.]+\" "
                  "height=\"([0-9.]+)\"/>");
  std::vector<double> out;
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), rect); it != std::sregex_iterator();
       ++it) {
    out.push_back(std::stod((*it)[1]));
  }
  return out;
}

TEST(StatusCharts, ImportBarsAreProportionalAndStackedWithATitleEachDay) {
  std::vector<DayOutcomes> days = Days();
  days[3].completed = 10;
  days[3].failed = 2;
  days[29].completed = 5;
  std::string svg = ImportsPerDaySvg(days);
  EXPECT_TRUE(svg.starts_with("<svg class=\"chart\"")) << svg.substr(0, 80);
  EXPECT_TRUE(svg.ends_with("</svg>"));
  EXPECT_THAT(svg, HasSubstr("role=\"img\""));
  // Axis top: 12 rounds up to 20; a plot 150 high makes 7.5 per import.
  EXPECT_EQ(Heights(svg, "bar-ok"), (std::vector<double>{75.0, 37.5}));
  EXPECT_EQ(Heights(svg, "bar-bad"), (std::vector<double>{15.0}));
  EXPECT_THAT(svg, HasSubstr("<title>2026-09-27: 10 completed, 2 failed</title>"));
  EXPECT_EQ(Heights(svg, "hover").size(), size_t(kStatusDays)) << "every day can be pointed at";
  EXPECT_THAT(svg, HasSubstr(">20</text>"));
}

TEST(StatusCharts, AnEmptyMonthDrawsAnAxisAndNoBars) {
  std::string svg = ImportsPerDaySvg(Days());
  EXPECT_TRUE(Heights(svg, "bar-ok").empty());
  EXPECT_THAT(svg, HasSubstr(">1</text>"));
  EXPECT_EQ(std::count(svg.begin(), svg.end(), '\n'), 0);
  size_t zeros = 0;
  for (size_t at = svg.find(">0</text>"); at != std::string::npos;
       at = svg.find(">0</text>", at + 1)) {
    ++zeros;
  }
  EXPECT_EQ(zeros, 1u) << "one 0 on the axis";
  EXPECT_THAT(svg, Not(HasSubstr("nan")));
}

TEST(StatusCharts, StepBarsUseALogScaleAndOnlyMeasuredSteps) {
  std::vector<StepDurations> steps = {
      {.name = "approval",
       .label = "Approval wait",
       .count = 3,
       .median_ms = 3'600'000,
       .p90_ms = 86'400'000},
      {.name = "import", .label = "Import", .count = 3, .median_ms = 1000, .p90_ms = 60'000},
      {.name = "sync", .label = "Sync", .count = 0, .median_ms = 0, .p90_ms = 0},
  };
  std::string svg = StepTimesSvg(steps);
  EXPECT_THAT(svg, HasSubstr("Approval wait: median 1 h, p90 1 d (3 measured)"));
  EXPECT_THAT(svg, Not(HasSubstr("Sync")));
  std::vector<double> p90 = Heights(svg, "bar-p90");
  ASSERT_EQ(p90.size(), 2u);
  // Widths on a log axis: one decade apart is the same distance anywhere.
  std::regex width("class=\"bar-median\" x=\"[0-9.]+\" y=\"[0-9.]+\" width=\"([0-9.]+)\"");
  std::vector<double> w;
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), width); it != std::sregex_iterator();
       ++it) {
    w.push_back(std::stod((*it)[1]));
  }
  ASSERT_EQ(w.size(), 2u);
  // 1 h and 1 s are 3600× apart: log10(3600) of the axis's log10(6,048,000) decades.
  EXPECT_NEAR((w[0] - w[1]) / 380.0, std::log10(3600.0) / std::log10(6'048'000.0), 0.002);
}

}  // namespace
}  // namespace apm::web
