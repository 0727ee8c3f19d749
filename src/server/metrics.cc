#include "server/metrics.h"

#include <cstdio>

namespace apm {
namespace {

std::string Number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

// Label values are route patterns and operation names of our own, but escape anyway.
std::string Escape(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

}  // namespace

void Histogram::Observe(double seconds) {
  size_t i = 0;
  while (i < kBounds.size() && seconds > kBounds[i]) ++i;
  ++counts_[i];
  sum_ += seconds;
  ++count_;
}

void Histogram::Render(std::string& out, std::string_view name, const std::string& labels) const {
  uint64_t cumulative = 0;
  std::string sep = labels.empty() ? "" : ",";
  for (size_t i = 0; i <= kBounds.size(); ++i) {
    cumulative += counts_[i];
    std::string le = i < kBounds.size() ? Number(kBounds[i]) : "+Inf";
    out += std::string(name) + "_bucket{" + labels + sep + "le=\"" + le + "\"} " +
           std::to_string(cumulative) + "\n";
  }
  std::string braces = labels.empty() ? "" : "{" + labels + "}";
  out += std::string(name) + "_sum" + braces + " " + Number(sum_) + "\n";
  out += std::string(name) + "_count" + braces + " " + std::to_string(count_) + "\n";
}

void Metrics::OnRequest(std::string_view route, int status, double seconds) {
  std::lock_guard lock(mu_);
  auto it = routes_.find(route);
  if (it == routes_.end()) it = routes_.emplace(std::string(route), RouteStats{}).first;
  ++it->second.by_status[status];
  it->second.latency.Observe(seconds);
}

void Metrics::ObserveStore(std::string_view operation, double seconds) {
  std::lock_guard lock(mu_);
  auto it = store_.find(operation);
  if (it == store_.end()) it = store_.emplace(std::string(operation), Histogram{}).first;
  it->second.Observe(seconds);
}

std::string Metrics::Render(const std::map<RequestState, int64_t>& by_state) const {
  std::string out;
  std::lock_guard lock(mu_);
  out += "# HELP apm_http_requests_total HTTP requests answered, by route pattern and status.\n";
  out += "# TYPE apm_http_requests_total counter\n";
  for (const auto& [route, stats] : routes_) {
    for (const auto& [status, n] : stats.by_status) {
      out += "apm_http_requests_total{route=\"" + Escape(route) + "\",status=\"" +
             std::to_string(status) + "\"} " + std::to_string(n) + "\n";
    }
  }
  out +=
      "# HELP apm_http_request_duration_seconds Time from reading a request to writing its "
      "answer.\n";
  out += "# TYPE apm_http_request_duration_seconds histogram\n";
  for (const auto& [route, stats] : routes_) {
    stats.latency.Render(out, "apm_http_request_duration_seconds",
                         "route=\"" + Escape(route) + "\"");
  }
  out += "# HELP apm_store_operation_duration_seconds Request store latency by operation.\n";
  out += "# TYPE apm_store_operation_duration_seconds histogram\n";
  for (const auto& [op, h] : store_) {
    h.Render(out, "apm_store_operation_duration_seconds", "operation=\"" + Escape(op) + "\"");
  }
  out += "# HELP apm_device_requests Device requests in the store, by state.\n";
  out += "# TYPE apm_device_requests gauge\n";
  for (const auto& [state, n] : by_state) {
    out += "apm_device_requests{state=\"" + std::string(RequestStateName(state)) + "\"} " +
           std::to_string(n) + "\n";
  }
  return out;
}

}  // namespace apm
