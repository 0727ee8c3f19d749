#include "server/http/responses.h"

#include <cctype>

namespace apm {

StringResponse Respond(unsigned http_version, http::status status, std::string body,
                       std::string_view content_type) {
  StringResponse res{status, http_version};
  res.set(http::field::content_type, content_type);
  res.set(http::field::cache_control, "no-store");
  res.set("X-Content-Type-Options", "nosniff");
  // 503 is a store or dependency that will be back (a database restart, a failover): clients
  // and proxies retry after a few seconds rather than give up.
  if (status == http::status::service_unavailable) res.set(http::field::retry_after, "5");
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

StringResponse Respond(const InboundRequest& req, http::status status, std::string body,
                       std::string_view content_type) {
  return Respond(req.message.version(), status, std::move(body), content_type);
}

bool SafeHost(std::string_view host) {
  if (host.empty() || host.size() > 255) return false;
  for (char c : host) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != ':' &&
        c != '[' && c != ']') {
      return false;
    }
  }
  return true;
}

std::string PublicBaseUrl(const Config& config, const InboundRequest& req) {
  if (!config.PublicUrl.empty()) {
    std::string url = config.PublicUrl;
    while (!url.empty() && url.back() == '/') url.pop_back();
    return url;
  }
  std::string host(req.message[http::field::host]);
  if (!SafeHost(host)) host = config.Listen;
  return std::string(req.secure ? "https://" : "http://") + host;
}

}  // namespace apm
