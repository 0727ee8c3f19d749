#include "server/http/https_redirect.h"

#include "server/http/responses.h"

namespace apm {

HttpsRedirectHandler::HttpsRedirectHandler(const Config& config, uint16_t tls_port)
    : config_(config), tls_port_(tls_port) {}

void HttpsRedirectHandler::Handle(InboundRequest request, Reply reply) {
  std::string target(request.message.target());
  std::string base;
  if (config_.PublicUrl.rfind("https://", 0) == 0) {
    base = PublicBaseUrl(config_, request);
  } else {
    std::string host(request.message[http::field::host]);
    // The name without its port (a bracketed IPv6 address keeps its brackets).
    if (size_t colon = host.rfind(':');
        colon != std::string::npos && host.find(']', colon) == std::string::npos) {
      host.resize(colon);
    }
    if (!SafeHost(host) || host.empty()) {
      return reply(Respond(request, http::status::bad_request,
                           "This address serves only redirects to https, and the Host header "
                           "is missing or not a host name.\n",
                           "text/plain; charset=utf-8"),
                   "redirect");
    }
    base = "https://" + host + (tls_port_ == 443 ? "" : ":" + std::to_string(tls_port_));
  }
  if (target.empty() || target.front() != '/') target = "/" + target;
  std::string location = base + target;
  StringResponse r = Respond(request, http::status::permanent_redirect,
                             "Moved to " + location + "\n", "text/plain; charset=utf-8");
  r.set(http::field::location, location);
  reply(std::move(r), "redirect");
}

}  // namespace apm
