// OutboundHttp over libcurl. Thread-safe: each call borrows an easy handle from a pool, so
// connections (and TLS sessions) are reused across calls and threads.
#pragma once

#include <atomic>
#include <mutex>
#include <vector>

#include "server/http/outbound_http.h"

namespace apm {

class CurlOutboundHttp : public OutboundHttp {
 public:
  struct Options {
    std::string ca_file;  // empty: the system's trust store
    // False only for `apm-server healthcheck` asking its own server on loopback: it sends
    // nothing secret and reads only the status.
    bool verify_peer = true;
    std::string user_agent = "apm-server";
  };
  explicit CurlOutboundHttp(Options options);
  CurlOutboundHttp();
  ~CurlOutboundHttp() override;
  CurlOutboundHttp(const CurlOutboundHttp&) = delete;
  CurlOutboundHttp& operator=(const CurlOutboundHttp&) = delete;

  Result<OutboundResponse> Send(const OutboundRequest& request,
                                SendReport* report = nullptr) override;

  // Aborts the calls in flight and refuses new ones (shutdown).
  void Cancel() { cancelled_ = true; }

 private:
  void* Borrow();
  void Return(void* handle);

  Options options_;
  std::atomic<bool> cancelled_{false};
  std::mutex mu_;            // guards idle_
  std::vector<void*> idle_;  // CURL* handles
};

}  // namespace apm
