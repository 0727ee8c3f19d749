// HTTP/1.1 server on Boost.Beast: one io_context per worker thread, each with its own
// SO_REUSEPORT acceptor, keep-alive, size limits, read/idle timeouts, optional TLS, and a
// graceful drain. Beast leaves writing 400/413/431 answers and the Date header to us.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "server/http/http_types.h"
#include "server/http/trusted_proxies.h"

namespace apm {

struct HttpServerOptions {
  std::string listen = "127.0.0.1:8080";  // ADDRESS:PORT; port 0 picks a free one
  int threads = 0;                        // 0: one per core
  size_t max_body_bytes = 64 * 1024;
  size_t max_header_bytes = 8 * 1024;
  std::chrono::seconds idle_timeout{30};  // for reading a whole request, and between requests
  std::chrono::seconds write_timeout{30};
  std::chrono::seconds shutdown_grace{10};
  std::string tls_certificate_file;  // both set: serve https
  std::string tls_key_file;
  TrustedProxies trusted_proxies;
  bool access_log = true;
};

class SessionBase;

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, HttpHandler& handler, RequestObserver* observer);
  ~HttpServer();

  // Binds and starts the worker threads.
  Status Start();
  // The bound port (after Start), useful with port 0.
  uint16_t port() const { return port_; }
  bool tls() const { return ssl_ != nullptr; }

  // Graceful: stop accepting, answer in-flight requests, close idle connections, then stop the
  // workers (forcing after the grace period). `before_stop` runs after the drain while the
  // workers still run (e.g. to join a pool whose tasks reply). Blocks until the workers exit.
  void Shutdown(const std::function<void()>& before_stop = {});

  bool stopping() const { return stopping_.load(); }
  size_t open_connections();

  // Internals used by sessions.
  const HttpServerOptions& options() const { return options_; }
  HttpHandler& handler() { return handler_; }
  void Register(const std::shared_ptr<SessionBase>& s);
  void Unregister(SessionBase* s);
  void Record(std::string_view method, std::string_view route, std::string_view path,
              const std::string& client, int status, double seconds);

 private:
  struct Worker {
    boost::asio::io_context io{1};
    std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor;
    std::unique_ptr<boost::asio::steady_timer> sweeper;
    int index = 0;
    std::thread thread;
  };
  void Accept(Worker& w);
  // Closes this worker's connections whose deadline has passed, four times a second.
  void Sweep(Worker& w);

  HttpServerOptions options_;
  HttpHandler& handler_;
  RequestObserver* observer_;
  std::unique_ptr<boost::asio::ssl::context> ssl_;
  std::vector<std::unique_ptr<Worker>> workers_;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::mutex sessions_mu_;
  std::unordered_map<SessionBase*, std::weak_ptr<SessionBase>> sessions_;
};

// A connection; implemented for plain TCP and for TLS.
class SessionBase {
 public:
  explicit SessionBase(int worker) : worker_(worker) {}
  virtual ~SessionBase() = default;
  // The worker (io_context) the connection lives on; its sweeper checks the deadline.
  int worker() const { return worker_; }
  // On the session's executor: closes the connection if its current deadline has passed.
  virtual void CheckDeadline(std::chrono::steady_clock::time_point now) = 0;
  // Posted to the session's executor at shutdown: close now if idle, else after the answer.
  virtual void Drain() = 0;
  virtual boost::asio::any_io_executor executor() = 0;

 private:
  int worker_;
};

}  // namespace apm
