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
  // Open connections at most (0: what the open-file limit leaves after a reserve for the rest of
  // the process), and from one peer address (0: no cap; trusted proxies are never capped).
  size_t max_connections = 0;
  size_t max_connections_per_address = 0;
  // Descriptors another listener of this process may hold (taken off the computed cap).
  size_t descriptors_used_elsewhere = 0;
  std::string tls_certificate_file;  // both set: serve https
  std::string tls_key_file;
  TrustedProxies trusted_proxies;
  // X-Azure-FDID values let in; empty: no Front Door check (request_checks.h).
  std::vector<std::string> front_door_ids;
  // Requests allowed a larger body than max_body_bytes (an upload form), by method and path
  // pattern (route_table.h: "{id}" matches one segment). At most `uploads_at_once` are read or
  // answered at a time across the server (more are answered 503 before their body is read): each
  // may hold its whole body in memory. A slot is returned with the next request on the connection
  // or when it closes (after the answer, at most the 2 s of a lingering close later). An upload has
  // idle_timeout plus the time its length takes at `upload_min_bytes_per_second` to arrive.
  struct Upload {
    http::verb method;
    std::string path;
    size_t max_body_bytes;
  };
  std::vector<Upload> uploads;
  size_t uploads_at_once = 2;
  std::uint64_t upload_min_bytes_per_second = 128 * 1024;  // 1 Mbit/s
  bool access_log = true;
};

class HttpConnection;

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, HttpHandler& handler, RequestObserver* observer);
  ~HttpServer();

  // Raises the open-file limit, binds and starts the worker threads.
  Status Start();
  // The connection cap in force (after Start).
  size_t max_connections() const { return max_connections_; }
  // The bound port (after Start), useful with port 0.
  uint16_t port() const { return port_; }
  bool tls() const { return !options_.tls_certificate_file.empty(); }
  // Reads the certificate and key files again; new handshakes present them, open connections
  // keep theirs. On an error (a file half-written, a key that does not match) the old ones stay.
  Status ReloadTls();

  // Graceful: stop accepting, answer in-flight requests, close idle connections, then stop the
  // workers (forcing after the grace period). `before_stop` runs after the drain while the
  // workers still run (e.g. to join a pool whose tasks reply). Blocks until the workers exit.
  void Shutdown(const std::function<void()>& before_stop = {});

  bool stopping() const { return stopping_.load(); }
  size_t open_connections();

  // Internals used by connections.
  const HttpServerOptions& options() const { return options_; }
  HttpHandler& handler() { return handler_; }
  // Counts a new connection, or says in `why` which cap it is over (and counts nothing).
  bool Register(const std::shared_ptr<HttpConnection>& s, bool capped_address, std::string* why);
  void Unregister(HttpConnection* s);
  // A place for one upload's body; false when `uploads_at_once` are already taken.
  bool TakeUploadSlot();
  void ReturnUploadSlot() { uploads_.fetch_sub(1); }
  // Beast stores a header field in at most 64 KiB and throws beyond; a header limit (with the
  // read buffer's slack) below that keeps every field within it.
  static constexpr size_t kMaxHeaderBytes = 60 * 1024;
  // HSTS for answers to clients that came over https (directly or through a trusted proxy).
  static constexpr std::string_view kStrictTransportSecurity = "max-age=31536000";
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
  void Serve(Worker& w, boost::asio::ip::tcp::socket socket);
  // Closes this worker's connections whose deadline has passed, four times a second.
  void Sweep(Worker& w);

  HttpServerOptions options_;
  HttpHandler& handler_;
  RequestObserver* observer_;
  // The context new connections take; replaced by ReloadTls. A TLS stream holds its own
  // reference to the OpenSSL context, so replacing it leaves open connections as they are.
  std::shared_ptr<boost::asio::ssl::context> CurrentTls();
  std::mutex tls_mu_;  // guards ssl_
  std::shared_ptr<boost::asio::ssl::context> ssl_;
  std::vector<std::unique_ptr<Worker>> workers_;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  size_t max_connections_ = 0;
  std::mutex connections_mu_;  // guards connections_ and per_address_
  std::unordered_map<HttpConnection*, std::weak_ptr<HttpConnection>> connections_;
  std::unordered_map<std::string, size_t> per_address_;  // open connections per peer address
  std::atomic<std::chrono::steady_clock::rep> last_refusal_log_{0};
  std::atomic<size_t> uploads_{0};  // upload slots taken
};

// A connection; implemented for plain TCP and for TLS.
class HttpConnection {
 public:
  HttpConnection(int worker, std::string peer_address)
      : worker_(worker), peer_address_(std::move(peer_address)) {}
  virtual ~HttpConnection() = default;
  // The worker (io_context) the connection lives on; its sweeper checks the deadline.
  int worker() const { return worker_; }
  const std::string& peer_address() const { return peer_address_; }
  // Begins reading (after the TLS handshake, for TLS).
  virtual void Start() = 0;
  // Over a connection cap: answers 503 where it can without blocking, and closes.
  virtual void Refuse(std::string_view why) = 0;
  // On the connection's executor: closes the connection if its current deadline has passed.
  virtual void CheckDeadline(std::chrono::steady_clock::time_point now) = 0;
  // Posted to the connection's executor at shutdown: close now if idle, else after the answer.
  virtual void Drain() = 0;
  virtual boost::asio::any_io_executor executor() = 0;

 private:
  int worker_;
  std::string peer_address_;
};

}  // namespace apm
