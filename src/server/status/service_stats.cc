#include "server/status/service_stats.h"

#include <algorithm>
#include <map>

namespace apm {
namespace {

constexpr int64_t kDayMs = 86'400'000;

// The states whose time the page shows, in a request's order. The approval wait ends with the
// decision, whichever it was; the others with the next state.
struct MeasuredState {
  RequestState state;
  std::string_view name;
  std::string_view label;
};
constexpr MeasuredState kMeasured[] = {
    {RequestState::kPendingApproval, "approval", "Approval wait"},
    {RequestState::kRemovingRegistration, "remove_registration", "Removing the old registration"},
    {RequestState::kImporting, "import", "Import"},
    {RequestState::kWaitingForSync, "sync", "Sync"},
    {RequestState::kAddingToGroup, "profile_group", "Profile group"},
    {RequestState::kWaitingForProfile, "profile", "Profile assignment"},
};

bool EndsApprovalWait(RequestState next) {
  return next == RequestState::kApproved || next == RequestState::kRejected;
}

// Nearest rank: the smallest value with at least `p` of the values at or below it.
int64_t Quantile(const std::vector<int64_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  size_t rank = size_t(p * double(sorted.size()) + 0.999999);
  return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
}

}  // namespace

int64_t StatusWindowStart(int64_t now_ms) {
  return (now_ms / kDayMs - (kStatusDays - 1)) * kDayMs;
}

ServiceStats ComputeServiceStats(const std::vector<RequestTimeline>& timelines, int64_t now_ms) {
  ServiceStats stats;
  stats.from_ms = StatusWindowStart(now_ms);
  for (int d = 0; d < kStatusDays; ++d) {
    stats.days.push_back({.day_start_ms = stats.from_ms + d * kDayMs, .completed = 0, .failed = 0});
  }
  std::map<RequestState, std::vector<int64_t>> took;
  // (code, name) → the group; failures are visited in any order, so the ids are sorted after.
  std::map<std::pair<int64_t, std::string>, std::vector<std::pair<int64_t, const RequestTimeline*>>>
      failed;
  for (const RequestTimeline& t : timelines) {
    // Durations: from entering a state to entering the next different one.
    for (size_t i = 0; i < t.steps.size(); ++i) {
      const RequestStep& entered = t.steps[i];
      if (i > 0 && t.steps[i - 1].state == entered.state) continue;  // a new step, same state
      size_t next = i + 1;
      while (next < t.steps.size() && t.steps[next].state == entered.state) ++next;
      if (next == t.steps.size()) break;  // still there
      const RequestStep& left = t.steps[next];
      if (left.at < stats.from_ms || left.at > now_ms) continue;
      if (entered.state == RequestState::kPendingApproval && !EndsApprovalWait(left.state)) {
        continue;  // expired or refused: nobody was deciding
      }
      took[entered.state].push_back(std::max<int64_t>(0, left.at - entered.at));
    }
    const bool imported = std::any_of(t.steps.begin(), t.steps.end(), [](const RequestStep& s) {
      return s.state == RequestState::kApproved;
    });
    if (!imported || t.finished_at < stats.from_ms || t.finished_at > now_ms) continue;
    DayOutcomes& day = stats.days[size_t((t.finished_at - stats.from_ms) / kDayMs)];
    if (t.state == RequestState::kCompleted) {
      ++day.completed;
      ++stats.completed;
    } else if (t.state == RequestState::kFailed) {
      ++day.failed;
      ++stats.failed;
      const int64_t code = t.error ? t.error->code : 0;
      failed[{code, t.error ? t.error->name : ""}].push_back({t.finished_at, &t});
    }
  }
  for (const MeasuredState& m : kMeasured) {
    std::vector<int64_t>& values = took[m.state];
    std::sort(values.begin(), values.end());
    stats.steps.push_back({.name = m.name,
                           .label = m.label,
                           .count = int(values.size()),
                           .median_ms = Quantile(values, 0.5),
                           .p90_ms = Quantile(values, 0.9)});
  }
  for (auto& [key, list] : failed) {
    std::sort(list.begin(), list.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first > b.first : a.second->id < b.second->id;
    });
    FailureGroup group;
    group.code = key.first;
    group.name = key.second;
    group.message = list.front().second->error ? list.front().second->error->message : "";
    group.count = int(list.size());
    for (size_t i = 0; i < list.size() && i < kFailureIdsShown; ++i) {
      group.recent_ids.push_back(list[i].second->id);
    }
    stats.failures.push_back(std::move(group));
  }
  std::stable_sort(stats.failures.begin(), stats.failures.end(),
                   [](const FailureGroup& a, const FailureGroup& b) { return a.count > b.count; });
  return stats;
}

}  // namespace apm
