// ServerApp's status page sources: the background set-up checks, the statistics from the
// store, and the engine's Graph budget.
#include "server/server_app.h"

namespace apm {

void ServerApp::StartStatus() {
  // Without Graph the server only takes requests (an admin imports them): nothing to check
  // that would not fail for good.
  if (config_.DoctorIntervalHours > 0 && config_.graph_configured()) {
    doctor_ = std::make_unique<BackgroundDoctor>(config_, clock_,
                                                 std::chrono::hours(config_.DoctorIntervalHours));
  }
  ServiceStatus::Sources sources;
  if (doctor_) sources.doctor = [this] { return doctor_->Latest(); };
  sources.graph = [this]() -> std::optional<GraphUse> {
    std::lock_guard lock(engine_mu_);
    GraphClient* graph = engine_graph_.client.get();
    if (!graph) return std::nullopt;
    return GraphUse{.throttled = graph->throttled(),
                    .intune = graph->IntuneBudget(),
                    .directory = graph->DirectoryBudget()};
  };
  // Past the timing wrapper: the collector runs while the metrics render (metrics.h).
  status_ = std::make_unique<ServiceStatus>(*sqlite_, clock_, std::move(sources));
  metrics_.AddCollector([this](std::string& out) { status_->AppendMetrics(out); });
}

}  // namespace apm
