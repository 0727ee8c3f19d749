#include "server/status/service_status.h"

#include <array>
#include <map>

#include "server/metrics.h"

namespace apm {

ServiceStatus::ServiceStatus(RequestStore& store, const Clock& clock, Sources sources)
    : store_(store), clock_(clock), sources_(std::move(sources)) {}

Result<ServiceSnapshot> ServiceStatus::Snapshot(std::chrono::seconds max_age_s) {
  const int64_t max_age = std::chrono::milliseconds(max_age_s).count();
  std::lock_guard read_lock(read_mu_);
  const int64_t now = clock_.NowMs();
  {
    std::lock_guard lock(mu_);
    const bool fresh = now >= last_read_at_ && now - last_read_at_ < max_age;
    if (fresh && cached_) return WithLiveParts(*cached_);
    last_read_at_ = now;
  }
  Result<std::vector<RequestTimeline>> timelines =
      store_.TimelinesSince(StatusWindowStart(now), kTimelinesRead);
  RequestFilter oldest;
  oldest.state = RequestState::kPendingApproval;
  oldest.oldest_first = true;
  oldest.limit = 1;
  Result<std::vector<StoredRequest>> waiting = store_.List(oldest);
  Result<std::map<RequestState, int64_t>> counts = store_.CountByState();
  std::lock_guard lock(mu_);
  if (timelines.ok() && waiting.ok() && counts.ok()) {
    ServiceSnapshot s;
    s.at = now;
    s.stats = ComputeServiceStats(*timelines, now);
    s.capped = timelines->size() >= size_t(kTimelinesRead);
    auto pending = counts->find(RequestState::kPendingApproval);
    s.pending = pending == counts->end() ? 0 : pending->second;
    s.oldest_pending_at = waiting->empty() ? 0 : waiting->front().created_at;
    cached_ = std::move(s);
  } else if (!cached_) {
    return !timelines.ok() ? timelines.status()
           : !waiting.ok() ? waiting.status()
                           : counts.status();
  }
  return WithLiveParts(*cached_);
}

std::optional<ServiceSnapshot> ServiceStatus::Cached() {
  std::lock_guard lock(mu_);
  if (!cached_) return std::nullopt;
  return WithLiveParts(*cached_);
}

// The doctor's latest run and the engine's budget change by the second and cost nothing.
ServiceSnapshot ServiceStatus::WithLiveParts(ServiceSnapshot s) const {
  if (sources_.doctor) s.doctor = sources_.doctor();
  if (sources_.graph) s.graph = sources_.graph();
  return s;
}

void ServiceStatus::AppendMetrics(std::string& out) {
  std::optional<ServiceSnapshot> snap = Cached();
  if (!snap) return;
  const ServiceStats& stats = snap->stats;
  out +=
      "# HELP apm_status_imports_30d Imports finished in the last 30 days (UTC days), by "
      "outcome.\n# TYPE apm_status_imports_30d gauge\n";
  out += "apm_status_imports_30d{outcome=\"completed\"} " + std::to_string(stats.completed) + "\n";
  out += "apm_status_imports_30d{outcome=\"failed\"} " + std::to_string(stats.failed) + "\n";
  out +=
      "# HELP apm_status_step_seconds Time requests spent in each step over the last 30 days: "
      "median (0.5) and p90 (0.9).\n# TYPE apm_status_step_seconds gauge\n";
  for (const StepDurations& d : stats.steps) {
    if (d.count == 0) continue;
    for (auto [q, ms] : std::array<std::pair<const char*, int64_t>, 2>{
             {{"0.5", d.median_ms}, {"0.9", d.p90_ms}}}) {
      out += "apm_status_step_seconds{step=\"" + std::string(d.name) + "\",quantile=\"" + q +
             "\"} " + std::to_string(double(ms) / 1000.0) + "\n";
    }
  }
  out +=
      "# HELP apm_status_step_count_30d Steps measured for apm_status_step_seconds.\n"
      "# TYPE apm_status_step_count_30d gauge\n";
  for (const StepDurations& d : stats.steps) {
    out += "apm_status_step_count_30d{step=\"" + std::string(d.name) + "\"} " +
           std::to_string(d.count) + "\n";
  }
  out +=
      "# HELP apm_status_failures_30d Imports failed in the last 30 days, by error code.\n"
      "# TYPE apm_status_failures_30d gauge\n";
  for (const FailureGroup& f : stats.failures) {
    // The name is Graph's deviceErrorName as it sent it.
    out += "apm_status_failures_30d{code=\"" + std::to_string(f.code) + "\",name=\"" +
           EscapeLabel(f.name) + "\"} " + std::to_string(f.count) + "\n";
  }
  if (snap->doctor) {
    std::map<DoctorVerdict, int> counts = {
        {DoctorVerdict::kOk, 0}, {DoctorVerdict::kWarning, 0}, {DoctorVerdict::kFailed, 0}};
    for (const Finding& f : snap->doctor->report.findings) ++counts[f.verdict];
    out +=
        "# HELP apm_doctor_findings The latest set-up checks' results, by verdict.\n"
        "# TYPE apm_doctor_findings gauge\n";
    for (const auto& [verdict, n] : counts) {
      out += "apm_doctor_findings{verdict=\"" + std::string(DoctorVerdictName(verdict)) + "\"} " +
             std::to_string(n) + "\n";
    }
    AppendMetric(out, "apm_doctor_last_run_timestamp_seconds", "gauge",
                 "When the latest set-up checks ended (Unix time).", snap->doctor->at / 1000);
  }
}

}  // namespace apm
