// HTTP routes of apm-tenant-sim. Today: the Entra ID v2 token endpoint (client credentials);
// the Graph endpoints of the import workflow follow (issue 3).
#pragma once

#include "server/http/http_types.h"
#include "tenantsim/identity.h"

namespace apm::sim {

class SimHandler : public HttpHandler {
 public:
  SimHandler(Identity& identity, const Clock& clock);
  void Handle(HttpRequest request, Reply reply) override;

 private:
  void Token(const HttpRequest& req, const std::string& tenant, const Reply& reply);

  Identity& identity_;
  const Clock& clock_;
};

}  // namespace apm::sim
