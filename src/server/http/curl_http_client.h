// HttpClient over libcurl. Thread-safe: each call borrows an easy handle from a pool, so
// connections (and TLS sessions) are reused across calls and threads.
#pragma once

#include <atomic>
#include <mutex>
#include <vector>

#include "server/http/http_client.h"

namespace apm {

class CurlHttpClient : public HttpClient {
 public:
  struct Options {
    std::string ca_file;  // empty: the system's trust store
    std::string user_agent = "apm-server";
  };
  explicit CurlHttpClient(Options options);
  CurlHttpClient();
  ~CurlHttpClient() override;
  CurlHttpClient(const CurlHttpClient&) = delete;
  CurlHttpClient& operator=(const CurlHttpClient&) = delete;

  Result<OutboundResponse> Send(const OutboundRequest& request,
                                TransportFailure* failure = nullptr) override;

  // Aborts the calls in flight and refuses new ones (shutdown).
  void Cancel() { cancelled_ = true; }

 private:
  void* Borrow();
  void Return(void* handle);

  Options options_;
  std::atomic<bool> cancelled_{false};
  std::mutex mu_;
  std::vector<void*> idle_;  // CURL* handles
};

}  // namespace apm
