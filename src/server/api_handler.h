// Routes of apm-server: the client API v1, the compatibility API of ap.exe 1.x, the home page,
// client downloads and the operations endpoints. Docs: docs/api.md.
#pragma once

#include <boost/asio/thread_pool.hpp>

#include "server/change_watcher.h"
#include "server/client_signing.h"
#include "server/clock.h"
#include "server/config.h"
#include "server/http/http_types.h"
#include "server/http/route_table.h"
#include "server/intake_service.h"
#include "server/metrics.h"
#include "server/rate_limiter.h"
#include "server/store/diagnostics_store.h"
#include "server/store/request_store.h"
#include "server/store/session_store.h"

namespace apm {

class ApiHandler : public HttpHandler {
 public:
  // Submissions run on `blocking` (they wait for a durable commit), never on an I/O thread.
  // `windows_client`: what /ap.exe serves (client_signing.h).
  // `diagnostics` keeps the bundles devices send; `audit` records them.
  ApiHandler(const Config& config, RequestStore& store, DiagnosticsStore& diagnostics,
             SessionStore& audit, IntakeService& intake, ChangeWatcher& watcher, Metrics& metrics,
             boost::asio::thread_pool& blocking, const Clock& clock,
             ServedClient windows_client = {});

  // Where a device sends its diagnostics bundle (a body larger than other API requests).
  static constexpr std::string_view kDiagnosticsRoute = "/api/v1/requests/{id}/diagnostics";

  void Handle(InboundRequest request, Reply reply) override;
  void OnShutdown() override;
  // Periodic clean-up (the maintenance timer): forgets idle rate-limit buckets.
  void Maintain() { diagnostics_limiter_.Sweep(); }

 private:
  // A route's work; `on_pool` when it waits for a durable commit (never on an I/O thread).
  struct Target {
    void (*run)(ApiHandler& handler, const InboundRequest& req,
                const std::vector<std::string>& params, const Reply& reply);
    bool on_pool = false;
  };
  // Every route of this handler; matching and dispatch both read it.
  static const RouteTable<Target>& Routes();

  void Readyz(const InboundRequest& req, const Reply& reply);
  void SubmitV1(const InboundRequest& req, const Reply& reply);
  void GetStatusV1(const InboundRequest& req, const std::string& id, const Reply& reply);
  // POST …/requests/{id}/diagnostics (api_diagnostics.cc).
  void UploadDiagnostics(const InboundRequest& req, const std::string& id, const Reply& reply);
  void CompatSave(const InboundRequest& req, const std::string& id, const Reply& reply);
  void CompatResult(const InboundRequest& req, const std::string& id, const Reply& reply);
  void Home(const InboundRequest& req, const Reply& reply);
  // A small self-contained HTML page (strict CSP; images only from `img_src`, an origin, when
  // given: the home page's configured logo).
  StringResponse Page(const InboundRequest& req, std::string_view title, std::string_view body_html,
                      std::string_view img_src = "");
  void Download(const InboundRequest& req, const std::string& path, bool windows,
                const Reply& reply);
  void ServeMetrics(const InboundRequest& req, const Reply& reply);

  // https://host[:port] as the client reached us (PublicUrl when configured).
  std::string BaseUrl(const InboundRequest& req) const;

  const Config& config_;
  const ServedClient windows_client_;
  const Clock& clock_;
  RequestStore& store_;
  DiagnosticsStore& diagnostics_;
  SessionStore& audit_;
  IntakeService& intake_;
  ChangeWatcher& watcher_;
  apm::Metrics& metrics_;
  boost::asio::thread_pool& blocking_;
  RateLimiter diagnostics_limiter_;  // diagnostics bundles per address
};

}  // namespace apm
