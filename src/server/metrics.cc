#include "server/metrics.h"

#include <cstdio>

namespace apm {
namespace {

std::string Number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

}  // namespace

// Route patterns and operation names are our own, but Graph's error names are not.
std::string EscapeLabel(std::string_view v) {
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

void Histogram::Observe(double seconds) {
  size_t i = 0;
  while (i < kBounds.size() && seconds > kBounds[i]) ++i;
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(uint64_t(seconds * 1e9), std::memory_order_relaxed);
}

void Histogram::Render(std::string& out, std::string_view name, const std::string& labels) const {
  uint64_t cumulative = 0;
  std::string sep = labels.empty() ? "" : ",";
  for (size_t i = 0; i <= kBounds.size(); ++i) {
    cumulative += counts_[i].load(std::memory_order_relaxed);
    std::string le = i < kBounds.size() ? Number(kBounds[i]) : "+Inf";
    out += std::string(name) + "_bucket{" + labels + sep + "le=\"" + le + "\"} " +
           std::to_string(cumulative) + "\n";
  }
  std::string braces = labels.empty() ? "" : "{" + labels + "}";
  out += std::string(name) + "_sum" + braces + " " +
         Number(double(sum_ns_.load(std::memory_order_relaxed)) / 1e9) + "\n";
  out += std::string(name) + "_count" + braces + " " + std::to_string(cumulative) + "\n";
}

template <class T>
T& Metrics::Find(std::map<std::string, std::unique_ptr<T>, std::less<>>& map,
                 std::string_view key) {
  {
    std::shared_lock lock(mu_);
    auto it = map.find(key);
    if (it != map.end()) return *it->second;
  }
  std::unique_lock lock(mu_);
  auto it = map.find(key);
  if (it == map.end()) it = map.emplace(std::string(key), std::make_unique<T>()).first;
  return *it->second;
}

void Metrics::OnRequest(std::string_view route, int status, double seconds) {
  RouteStats& stats = Find(routes_, route);
  if (status >= 100 && status <= 599) {
    stats.by_status[size_t(status - 100)].fetch_add(1, std::memory_order_relaxed);
  }
  stats.latency.Observe(seconds);
}

void Metrics::ObserveStore(std::string_view operation, double seconds) {
  Find(store_, operation).Observe(seconds);
}

std::string Metrics::Render(const std::map<RequestState, int64_t>& by_state) const {
  std::string out;
  std::vector<std::function<void(std::string&)>> collectors;
  std::shared_lock lock(mu_);
  collectors = collectors_;
  out += "# HELP apm_http_requests_total HTTP requests answered, by route pattern and status.\n";
  out += "# TYPE apm_http_requests_total counter\n";
  for (const auto& [route, stats] : routes_) {
    for (size_t i = 0; i < stats->by_status.size(); ++i) {
      uint64_t n = stats->by_status[i].load(std::memory_order_relaxed);
      if (n == 0) continue;
      out += "apm_http_requests_total{route=\"" + EscapeLabel(route) + "\",status=\"" +
             std::to_string(i + 100) + "\"} " + std::to_string(n) + "\n";
    }
  }
  out +=
      "# HELP apm_http_request_duration_seconds Time from reading a request to writing its "
      "answer.\n";
  out += "# TYPE apm_http_request_duration_seconds histogram\n";
  for (const auto& [route, stats] : routes_) {
    stats->latency.Render(out, "apm_http_request_duration_seconds",
                          "route=\"" + EscapeLabel(route) + "\"");
  }
  out += "# HELP apm_store_operation_duration_seconds Request store latency by operation.\n";
  out += "# TYPE apm_store_operation_duration_seconds histogram\n";
  for (const auto& [op, h] : store_) {
    h->Render(out, "apm_store_operation_duration_seconds", "operation=\"" + EscapeLabel(op) + "\"");
  }
  out += "# HELP apm_device_requests Device requests in the store, by state.\n";
  out += "# TYPE apm_device_requests gauge\n";
  for (const auto& [state, n] : by_state) {
    out += "apm_device_requests{state=\"" + std::string(RequestStateName(state)) + "\"} " +
           std::to_string(n) + "\n";
  }
  // Outside the lock: a collector may read the store, whose timing takes the lock exclusively.
  lock.unlock();
  for (const auto& collect : collectors) collect(out);
  return out;
}

}  // namespace apm

namespace apm {

void Metrics::AddCollector(std::function<void(std::string&)> collector) {
  std::unique_lock lock(mu_);
  collectors_.push_back(std::move(collector));
}

}  // namespace apm
