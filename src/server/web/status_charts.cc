#include "server/web/status_charts.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "server/clock.h"
#include "server/web/page_text.h"

namespace apm::web {
namespace {

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

// "2026-11-28" of the day starting at `ms` (UTC).
std::string IsoDay(int64_t ms) {
  return FormatTimestamp(ms).substr(0, 10);
}

std::string Rect(double x, double y, double w, double h, const char* cls) {
  return "<rect class=\"" + std::string(cls) + "\" x=\"" + Num(x) + "\" y=\"" + Num(y) +
         "\" width=\"" + Num(w) + "\" height=\"" + Num(h) + "\"/>";
}

std::string SvgText(double x, double y, const std::string& text, const char* anchor = "start") {
  return "<text x=\"" + Num(x) + "\" y=\"" + Num(y) + "\" text-anchor=\"" + anchor + "\">" + text +
         "</text>";
}

// The axis's largest value: the day's largest total rounded up to 1, 2 or 5 × 10^n.
int NiceMax(int value) {
  int scale = 1;
  while (true) {
    for (int m : {1, 2, 5}) {
      if (m * scale >= value) return m * scale;
    }
    scale *= 10;
  }
}

}  // namespace

std::string ImportsPerDaySvg(const std::vector<DayOutcomes>& days) {
  constexpr double kLeft = 36, kTop = 10, kPlotH = 150, kBarW = 14, kStep = 20;
  const double width = kLeft + kStep * double(days.size()) + 16;  // room for the last label
  int largest = 1;
  for (const DayOutcomes& d : days) largest = std::max(largest, d.completed + d.failed);
  const int top = NiceMax(largest);
  const double per = kPlotH / top;
  std::string svg = "<svg class=\"chart\" viewBox=\"0 0 " + Num(width) + " " +
                    Num(kTop + kPlotH + 26) +
                    "\" role=\"img\" aria-labelledby=\"imports-chart-title\">"
                    "<title id=\"imports-chart-title\">Imports per day over the last " +
                    std::to_string(days.size()) + " days: completed and failed</title>";
  // The axis: 0 and the top, with a grid line at each.
  std::vector<int> ticks = {0, top};
  if (top >= 2) ticks.insert(ticks.begin() + 1, top / 2);  // 1 has no middle but a second 0
  for (int v : ticks) {
    const double y = kTop + kPlotH - v * per;
    svg += "<line class=\"grid\" x1=\"" + Num(kLeft) + "\" x2=\"" + Num(width) + "\" y1=\"" +
           Num(y) + "\" y2=\"" + Num(y) + "\"/>" +
           SvgText(kLeft - 4, y + 4, std::to_string(v), "end");
  }
  for (size_t i = 0; i < days.size(); ++i) {
    const DayOutcomes& d = days[i];
    const double x = kLeft + 3 + kStep * double(i);
    svg += "<g><title>" + IsoDay(d.day_start_ms) + ": " + std::to_string(d.completed) +
           " completed, " + std::to_string(d.failed) + " failed</title>";
    const double ok_h = d.completed * per, bad_h = d.failed * per;
    // An empty day still has a target to point at.
    svg += Rect(x, kTop, kBarW, kPlotH, "hover");
    if (d.completed) svg += Rect(x, kTop + kPlotH - ok_h, kBarW, ok_h, "bar-ok");
    if (d.failed) svg += Rect(x, kTop + kPlotH - ok_h - bad_h, kBarW, bad_h, "bar-bad");
    svg += "</g>";
    if ((days.size() - 1 - i) % 7 == 0) {
      svg += SvgText(x + kBarW / 2, kTop + kPlotH + 18, IsoDay(d.day_start_ms).substr(5), "middle");
    }
  }
  return svg + "</svg>";
}

std::string StepTimesSvg(const std::vector<StepDurations>& steps) {
  // Ticks at 1 s, 1 min, 1 h, 1 d and 1 week; bars from the left edge (100 ms).
  struct Tick {
    double seconds;
    const char* label;
  };
  constexpr Tick kTicks[] = {
      {1, "1 s"}, {60, "1 min"}, {3600, "1 h"}, {86'400, "1 d"}, {604'800, "1 w"}};
  constexpr double kLabelW = 210, kPlotW = 380, kRowH = 34, kTop = 8, kMin = 0.1, kMax = 604'800;
  auto x_of = [&](int64_t ms) {
    const double s = std::clamp(double(ms) / 1000.0, kMin, kMax);
    return kLabelW + kPlotW * (std::log10(s / kMin) / std::log10(kMax / kMin));
  };
  std::vector<const StepDurations*> shown;
  for (const StepDurations& s : steps) {
    if (s.count > 0) shown.push_back(&s);
  }
  const double height = kTop + kRowH * double(shown.size()) + 24;
  std::string svg = "<svg class=\"chart\" viewBox=\"0 0 " + Num(kLabelW + kPlotW + 20) + " " +
                    Num(height) +
                    "\" role=\"img\" aria-labelledby=\"steps-chart-title\">"
                    "<title id=\"steps-chart-title\">Time per step over the last 30 days: "
                    "median and 90th percentile, logarithmic scale</title>";
  const double bottom = kTop + kRowH * double(shown.size());
  for (const Tick& t : kTicks) {
    const double x = x_of(int64_t(t.seconds * 1000));
    svg += "<line class=\"grid\" x1=\"" + Num(x) + "\" x2=\"" + Num(x) + "\" y1=\"" + Num(kTop) +
           "\" y2=\"" + Num(bottom) + "\"/>" + SvgText(x, bottom + 16, t.label, "middle");
  }
  for (size_t i = 0; i < shown.size(); ++i) {
    const StepDurations& s = *shown[i];
    const double y = kTop + kRowH * double(i);
    svg += "<g><title>" + std::string(s.label) + ": median " + Duration(s.median_ms) + ", p90 " +
           Duration(s.p90_ms) + " (" + std::to_string(s.count) + " measured)</title>";
    svg += SvgText(0, y + 21, std::string(s.label));
    svg += Rect(kLabelW, y + 8, x_of(s.p90_ms) - kLabelW, 18, "bar-p90");
    svg += Rect(kLabelW, y + 8, x_of(s.median_ms) - kLabelW, 18, "bar-median");
    svg += "</g>";
  }
  return svg + "</svg>";
}

}  // namespace apm::web
