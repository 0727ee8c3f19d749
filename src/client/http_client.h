// The client's outbound HTTP: one request, one answer, no automatic redirects (the client
// follows them itself so it can use the final URL from then on).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace apm::client {

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds timeout{15000};  // the whole exchange
};

struct HttpResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names as received
  std::string body;
  // The first header of this name (case-insensitive), or "".
  std::string Header(std::string_view name) const;
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // A transport failure (refused, timeout, TLS, DNS) is a kUnavailable Status naming it; any
  // HTTP answer, including 4xx/5xx, is a response.
  virtual Result<HttpResponse> Send(const HttpRequest& request) = 0;
};

// libcurl on POSIX, WinHTTP on Windows (system proxy settings, the OS certificate store).
std::unique_ptr<HttpClient> NewSystemHttpClient();

}  // namespace apm::client
