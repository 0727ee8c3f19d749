// An OutboundHttp that hands each call straight to an HttpHandler in this process: no sockets,
// deterministic, for tests of code that talks to the tenant simulator.
#pragma once

#include "server/http/http_types.h"
#include "server/http/outbound_http.h"

namespace apm {

class InProcessOutboundHttp : public OutboundHttp {
 public:
  explicit InProcessOutboundHttp(HttpHandler& handler) : handler_(handler) {}
  // Answers carrying `X-Apm-Drop-Connection` become lost answers (kUnavailable, kLost), as the
  // real server drops the connection instead of writing them.
  Result<OutboundResponse> Send(const OutboundRequest& request,
                                SendReport* report = nullptr) override;

 private:
  HttpHandler& handler_;
};

}  // namespace apm
