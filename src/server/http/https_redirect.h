// The optional plain-HTTP listener (HttpRedirectListen): every request is answered 308 with the
// same path and query on https, and nothing else is served there.
#pragma once

#include <cstdint>

#include "server/config.h"
#include "server/http/http_types.h"

namespace apm {

class HttpsRedirectHandler : public HttpHandler {
 public:
  // `tls_port` is where https is served, used when PublicUrl does not say.
  HttpsRedirectHandler(const Config& config, uint16_t tls_port);
  void Handle(InboundRequest request, Reply reply) override;

 private:
  const Config& config_;
  uint16_t tls_port_;
};

}  // namespace apm
