// Prometheus text-format metrics: HTTP requests by route and status, request latency, store
// latency, and device requests by state (read from the store at scrape time).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/request_state.h"
#include "server/http/http_types.h"

namespace apm {

// Lock-free: observations from several threads are atomic increments.
class Histogram {
 public:
  static constexpr std::array<double, 15> kBounds = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60};
  void Observe(double seconds);
  // Appends the _bucket/_sum/_count lines for `name` with `labels` (e.g. route="/x").
  void Render(std::string& out, std::string_view name, const std::string& labels) const;

 private:
  std::array<std::atomic<uint64_t>, kBounds.size() + 1> counts_{};
  std::atomic<uint64_t> sum_ns_{0};
};

// A label value in the text format: backslash, quote and newline escaped.
std::string EscapeLabel(std::string_view value);

// One metric with its HELP and TYPE lines, in Prometheus' text format (for collectors).
inline void AppendMetric(std::string& out, const char* name, const char* type, const char* help,
                         int64_t value) {
  out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" +
         name + " " + std::to_string(value) + "\n";
}

class Metrics : public RequestObserver {
 public:
  void OnRequest(std::string_view route, int status, double seconds) override;
  void ObserveStore(std::string_view operation, double seconds);
  std::string Render(const std::map<RequestState, int64_t>& requests_by_state) const;
  // Adds text a component renders itself at scrape time (set up before serving starts).
  void AddCollector(std::function<void(std::string& out)> collector);

 private:
  struct RouteStats {
    std::array<std::atomic<uint64_t>, 500> by_status{};  // status 100..599
    Histogram latency;
  };
  // Writers take the lock only to add a route or operation seen for the first time.
  template <class T>
  T& Find(std::map<std::string, std::unique_ptr<T>, std::less<>>& map, std::string_view key);

  mutable std::shared_mutex mu_;
  std::map<std::string, std::unique_ptr<RouteStats>, std::less<>> routes_;
  std::map<std::string, std::unique_ptr<Histogram>, std::less<>> store_;
  std::vector<std::function<void(std::string&)>> collectors_;
};

}  // namespace apm
