// Azure Monitor's Logs Ingestion API as the simulator offers it:
// POST /dataCollectionRules/{dcr-id}/streams/{stream}?api-version=2023-01-01 with an Azure
// Monitor token, a JSON array of rows (gzip allowed), at most 1 MB; 204 when accepted. It keeps
// what it accepted for /_sim/logs, and can be told to answer 429 or 413 (/_sim/logs-faults).
// Facts: ../shared/reference/integrations.md, section 5.2.
#pragma once

#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "server/http/http_types.h"
#include "tenantsim/identity.h"

namespace apm::sim {

class LogsIngestion {
 public:
  explicit LogsIngestion(Identity& identity) : identity_(identity) {}

  // Handles a request under /dataCollectionRules/.
  void Handle(const InboundRequest& req, const Reply& reply);

  // {"calls": accepted calls, "rows": [every row, in order, with "_stream" and "_rule"]}
  nlohmann::json Received();
  // {"throttle": n, "retryAfter": s, "tooLarge": n}: the next n calls answer 429 (with
  // Retry-After) or 413.
  Status SetFaults(const nlohmann::json& faults);

  static constexpr size_t kMaxCallBytes = 1'000'000;

 private:
  Identity& identity_;
  std::mutex mu_;  // guards the rest
  nlohmann::json rows_ = nlohmann::json::array();
  int64_t calls_ = 0;
  int throttle_ = 0;
  int retry_after_ = 1;
  int too_large_ = 0;
};

}  // namespace apm::sim
