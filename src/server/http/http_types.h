// What a request handler sees of HTTP, independent of sockets, TLS and threads.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/beast/http.hpp>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <variant>

namespace apm {

namespace http = boost::beast::http;

using StringResponse = http::response<http::string_body>;
using FileResponse = http::response<http::file_body>;
using AnyResponse = std::variant<StringResponse, FileResponse>;

// Raised at most once, when the client goes away before its request is answered (it closed an
// abandoned long-poll). A handler that holds a request subscribes to stop waiting early.
class PeerGone {
 public:
  // Runs `f` when the peer goes (at once if it has gone); a later call replaces the earlier.
  void OnGone(std::function<void()> f);
  void Raise();

 private:
  std::mutex mu_;  // guards both members: handlers subscribe from pool threads
  bool gone_ = false;
  std::function<void()> on_gone_;
};

struct InboundRequest {
  http::request<http::string_body> message;
  std::string path;            // target before '?'
  std::string query;           // after '?', undecoded
  std::string client_address;  // the peer, or the client named by a trusted proxy
  bool secure = false;         // https as the client sees it
  // The connection's executor: timers a handler starts (long-polls) run there, costing no thread.
  boost::asio::any_io_executor executor;
  // Set by the HTTP server; null for requests made in tests without one.
  std::shared_ptr<PeerGone> peer_gone;
};

// A response carrying this header with the value "1" is not written: the session closes the
// connection at once, so a test double (apm-tenant-sim) can act as a service that drops it.
inline constexpr std::string_view kDropConnectionHeader = "X-Apm-Drop-Connection";

// Completes a request exactly once, from any thread. `route` names the matched route pattern
// (e.g. "/api/v1/requests/{id}") for logs and metrics.
using Reply = std::function<void(AnyResponse response, std::string_view route)>;

class HttpHandler {
 public:
  virtual ~HttpHandler() = default;
  virtual void Handle(InboundRequest request, Reply reply) = 0;
  // The server has begun a graceful shutdown: answer anything that is waiting now.
  virtual void OnShutdown() {}
};

// Told about every answered request (metrics).
class RequestObserver {
 public:
  virtual ~RequestObserver() = default;
  virtual void OnRequest(std::string_view route, int status, double seconds) = 0;
};

// Value of one query parameter, or nullopt; `query` is the raw text after '?'.
std::optional<std::string> QueryParam(std::string_view query, std::string_view name);

}  // namespace apm
