// What the service did over the last days, computed from the requests' timelines: imports per
// day and their outcome, how long each step took (median and p90), and failures by error code.
// Shown on the status page (/autopilot/status) and in /metrics.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "server/store/request_store.h"

namespace apm {

inline constexpr int kStatusDays = 30;

struct DayOutcomes {
  int64_t day_start_ms = 0;  // UTC midnight
  int completed = 0;
  int failed = 0;
};

// How long requests stayed in one state, over the steps that ended within the window.
struct StepDurations {
  std::string_view name;   // metric label: "approval", "import", ...
  std::string_view label;  // page text: "Approval wait", "Import", ...
  int count = 0;
  int64_t median_ms = 0;
  int64_t p90_ms = 0;
};

struct FailureGroup {
  int64_t code = 0;
  std::string name;
  std::string message;  // the newest failure's
  int count = 0;
  std::vector<std::string> recent_ids;  // newest first, at most kFailureIdsShown
};
inline constexpr size_t kFailureIdsShown = 5;

struct ServiceStats {
  int64_t from_ms = 0;  // the window's start (UTC midnight, kStatusDays - 1 days before today)
  std::vector<DayOutcomes> days;       // oldest first, one per day, today last
  std::vector<StepDurations> steps;    // in the order a request goes through them
  std::vector<FailureGroup> failures;  // most frequent first
  int completed = 0;
  int failed = 0;
};

// The statistics of `timelines` (TimelinesSince(from_ms)) as of `now_ms`.
ServiceStats ComputeServiceStats(const std::vector<RequestTimeline>& timelines, int64_t now_ms);

// The window's start for `now_ms`: the query's `since` (ComputeServiceStats counts within it).
int64_t StatusWindowStart(int64_t now_ms);

}  // namespace apm
