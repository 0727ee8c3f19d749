// HTTP routes of apm-tenant-sim: the Entra ID v2 token endpoint (client secret or certificate
// assertion; client credentials and authorization codes), the OpenID Connect provider routes
// (discovery, keys, authorize, logout: OidcProvider, reached through oidc()), the Microsoft Graph
// routes of the Autopilot import workflow under /v1.0 and /beta
// (GraphRouter), and, when enabled, inspection routes under /_sim/.
//
// In-process use: build an Identity and a GraphModel on the same Clock (a ManualClock in
// tests), then a SimHandler, and call Handle directly. An answer carrying the header
// X-Apm-Drop-Connection: 1 (kDropConnectionHeader) stands for a connection dropped without an
// answer: the HTTP server writes nothing, so an in-process caller must treat it as "no answer"
// (the request may or may not have taken effect; X-Apm-Sim-Fault says which: "dropped" before
// any effect, "lost-response" after it). Slow answers are delayed on req.executor when set,
// and answered at once otherwise.
#pragma once

#include <memory>

#include "server/http/http_types.h"
#include "tenantsim/graph_model.h"
#include "tenantsim/graph_router.h"
#include "tenantsim/identity.h"
#include "tenantsim/logs_ingestion.h"
#include "tenantsim/oidc_provider.h"

namespace apm::sim {

class SimHandler : public HttpHandler {
 public:
  // With a tenant of default configuration (no admin routes, no faults).
  SimHandler(Identity& identity, const Clock& clock);
  SimHandler(Identity& identity, GraphModel& model, const Clock& clock);
  void Handle(InboundRequest request, Reply reply) override;

  GraphModel& model() { return model_; }
  // Test users, signing keys and sign-in settings.
  OidcProvider& oidc() { return oidc_; }
  // Every answer's Date header from the simulator's clock (which may be skewed), not the
  // machine's.
  void DateFromClock() { date_from_clock_ = true; }

 private:
  // Routes under /{tenant}/; false when `rest` names none of them.
  bool TenantRoute(const InboundRequest& req, const std::string& tenant, std::string_view rest,
                   const Reply& reply);
  // The device code flow: POST /{tenant}/oauth2/v2.0/devicecode and the /devicelogin page.
  void DeviceCode(const InboundRequest& req, const std::string& tenant, const Reply& reply);
  void DeviceLogin(const InboundRequest& req, const Reply& reply);
  void Token(const InboundRequest& req, const std::string& tenant, const Reply& reply);
  void Graph(const InboundRequest& req, const std::string& version, const Reply& reply);
  void Admin(const InboundRequest& req, const Reply& reply);

  std::unique_ptr<GraphModel> owned_model_;  // only with the two-argument constructor
  Identity& identity_;
  GraphModel& model_;
  const Clock& clock_;
  GraphRouter api_;
  OidcProvider oidc_;
  LogsIngestion logs_;
  bool date_from_clock_ = false;
};

}  // namespace apm::sim
