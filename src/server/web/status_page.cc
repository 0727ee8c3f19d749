// The web handler's service page for viewers (/autopilot/status): the latest set-up checks, the
// last 30 days in charts and numbers, requests waiting for approval and the Graph budget.
#include "core/text.h"
#include "server/status/service_status.h"
#include "server/web/page_text.h"
#include "server/web/status_charts.h"
#include "server/web/visit.h"

namespace apm::web {
namespace {

TemplateData DoctorData(const DoctorRun& run, int64_t now) {
  TemplateData d;
  d.set("at", ShortTime(run.at));
  d.set("ago", Age(now - run.at));
  // Problems first, each with its fix; what passed folded away below them.
  TemplateData problems{TemplateData::type::list};
  TemplateData passed{TemplateData::type::list};
  for (const Finding& f : run.report.findings) {
    TemplateData row;
    row.set("check", f.check);
    row.set("text", f.text);
    if (f.verdict == DoctorVerdict::kOk) {
      passed.push_back(row);
      continue;
    }
    row.set("verdict", std::string(DoctorVerdictName(f.verdict)));
    row.set("mark", std::string(DoctorMark(f.verdict)));
    if (!f.fix.empty()) row.set("fix", f.fix);
    problems.push_back(row);
  }
  const size_t problem_count = run.report.findings.size() - passed.list_value().size();
  d.set("summary", problem_count == 0 ? std::string("everything is set up right")
                                      : std::to_string(problem_count) + " to look at");
  d.set("has_problems", problem_count > 0);
  d.set("problems", problems);
  d.set("has_passed", !passed.is_empty_list());
  d.set("passed_count", std::to_string(passed.list_value().size()));
  d.set("passed", passed);
  return d;
}

TemplateData GraphData(const GraphUse& g) {
  TemplateData d;
  d.set("throttled", std::to_string(g.throttled));
  d.set("intune_writes", std::to_string(g.intune.used.writes));
  d.set("intune_write_limit", std::to_string(g.intune.limits.writes_per_window));
  d.set("intune_requests", std::to_string(g.intune.used.requests));
  d.set("intune_request_limit", std::to_string(g.intune.limits.requests_per_window));
  d.set("directory_requests", std::to_string(g.directory.used.requests));
  d.set("directory_request_limit", std::to_string(g.directory.limits.requests_per_window));
  d.set("window", std::to_string(g.intune.limits.window.count() / 1000));
  return d;
}

}  // namespace

void WebHandler::StatusPage(Visit& v) {
  if (!Require(v, v.roles.viewer, "viewer", "ViewerSecurityGroup")) return;
  Result<ServiceSnapshot> snap = status_.Snapshot(ServiceStatus::kPageMaxAge);
  if (!snap.ok()) {
    return Message(v, http::status::service_unavailable, "Unavailable",
                   "The service's figures cannot be read right now. Try again.");
  }
  const int64_t now = clock_.NowMs();
  const ServiceStats& stats = snap->stats;
  TemplateData d;
  if (snap->doctor) {
    d.set("doctor", DoctorData(*snap->doctor, now));
  } else {
    d.set("doctor_none", config_.DoctorIntervalHours > 0
                             ? "The checks are running (they start with the server)."
                             : "The checks do not run in the server (DoctorIntervalHours = 0); "
                               "run apm-server doctor.");
  }
  d.set("completed", std::to_string(stats.completed));
  d.set("failed", std::to_string(stats.failed));
  d.set("imports_svg", ImportsPerDaySvg(stats.days));
  // The chart's numbers for those who cannot point at its bars: the days with imports.
  TemplateData days{TemplateData::type::list};
  for (auto day = stats.days.rbegin(); day != stats.days.rend(); ++day) {
    if (day->completed + day->failed == 0) continue;
    TemplateData row;
    row.set("day", ShortTime(day->day_start_ms).substr(0, 10));
    row.set("completed", std::to_string(day->completed));
    row.set("failed", std::to_string(day->failed));
    days.push_back(row);
  }
  d.set("has_days", !days.is_empty_list());
  d.set("days", days);
  d.set("capped", snap->capped);
  d.set("cap", std::to_string(ServiceStatus::kTimelinesRead));
  TemplateData steps{TemplateData::type::list};
  for (const StepDurations& s : stats.steps) {
    if (s.count == 0) continue;
    TemplateData row;
    row.set("label", std::string(s.label));
    row.set("count", std::to_string(s.count));
    row.set("median", Duration(s.median_ms));
    row.set("p90", Duration(s.p90_ms));
    steps.push_back(row);
  }
  d.set("has_steps", !steps.is_empty_list());
  d.set("steps", steps);
  d.set("steps_svg", StepTimesSvg(stats.steps));
  TemplateData failures{TemplateData::type::list};
  for (const FailureGroup& f : stats.failures) {
    TemplateData row;
    row.set("error", ErrorText({f.code, f.name, f.message}));
    row.set("count", std::to_string(f.count));
    TemplateData ids{TemplateData::type::list};
    for (const std::string& id : f.recent_ids) {
      TemplateData link;
      link.set("id", id);
      ids.push_back(link);
    }
    row.set("ids", ids);
    failures.push_back(row);
  }
  d.set("has_failures", !failures.is_empty_list());
  d.set("failures", failures);
  d.set("pending", std::to_string(snap->pending));
  d.set("waiting", snap->pending > 0);
  if (snap->oldest_pending_at) d.set("oldest_age", Age(now - snap->oldest_pending_at));
  d.set("approver", v.roles.approver);
  if (snap->graph) d.set("graph", GraphData(*snap->graph));
  d.set("figures_at", ShortTime(snap->at));
  SendPage(v, http::status::ok, Titled("Service status"), PageTemplate::kStatus, d);
}

}  // namespace apm::web
