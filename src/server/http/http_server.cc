#include "server/http/http_server.h"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <sys/resource.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "server/http/http_connection.h"
#include "server/logging.h"

namespace apm {
namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;

Result<tcp::endpoint> ParseListen(const std::string& listen) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return Status::InvalidArgument("Listen must be ADDRESS:PORT");
  std::string host = listen.substr(0, colon);
  std::string port = listen.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  boost::system::error_code ec;
  asio::ip::address addr = asio::ip::make_address(host, ec);
  if (ec) return Status::InvalidArgument("Listen: \"" + host + "\" is not an IP address");
  if (port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos || std::stoi(port) > 65535) {
    return Status::InvalidArgument("Listen: \"" + port + "\" is not a port number");
  }
  return tcp::endpoint(addr, uint16_t(std::stoi(port)));
}

// Raises the soft open-file limit to the hard one (each connection is a descriptor; the usual
// soft default of 1,024 is far too few); returns the limit in force.
uint64_t RaiseOpenFileLimit() {
  constexpr rlim_t kEnough = 1 << 20;
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 1024;
  rlim_t wanted = std::min(limit.rlim_max, kEnough);
  if (limit.rlim_cur < wanted) {
    rlimit raised = limit;
    raised.rlim_cur = wanted;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) {
      limit = raised;
    } else {
      LogWarn("cannot raise the open-file limit",
              {{"limit", uint64_t(limit.rlim_cur)}, {"error", std::strerror(errno)}});
    }
  }
  if (limit.rlim_cur < 4096) {
    LogWarn("the open-file limit is low: connections are capped by it",
            {{"limit", uint64_t(limit.rlim_cur)}, {"hint", "raise LimitNOFILE / ulimit -n"}});
  }
  return limit.rlim_cur;
}

// Connections the limit leaves room for after a reserve for the store, logs and outbound calls.
size_t ConnectionsTheFileLimitAllows(uint64_t file_limit) {
  uint64_t reserve = file_limit < 1024 ? 64 : 128;
  return file_limit > 2 * reserve ? size_t(file_limit - reserve) : size_t(file_limit / 2);
}

// A server context with the certificate chain and key from these files.
Result<std::shared_ptr<ssl::context>> LoadTls(const std::string& certificate_file,
                                              const std::string& key_file) {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                       ssl::context::single_dh_use);
  boost::system::error_code ec;
  context->use_certificate_chain_file(certificate_file, ec);
  if (ec)
    return Status::InvalidArgument("TlsCertificateFile " + certificate_file + ": " + ec.message());
  // OpenSSL refuses here also a key that does not match the certificate ("key values mismatch").
  context->use_private_key_file(key_file, ssl::context::pem, ec);
  if (ec) return Status::InvalidArgument("TlsKeyFile " + key_file + ": " + ec.message());
  return context;
}

// A worker thread: an exception that escapes a completion handler (a parser or handler bug)
// costs that connection, never the thread and the process.
void RunWorker(asio::io_context& io) {
  for (;;) {
    try {
      io.run();
      return;
    } catch (const std::exception& e) {
      LogError("uncaught exception in a connection; it was closed", {{"error", e.what()}});
    } catch (...) {
      LogError("uncaught exception in a connection; it was closed", {});
    }
  }
}

}  // namespace

HttpServer::HttpServer(HttpServerOptions options, HttpHandler& handler, RequestObserver* observer)
    : options_(std::move(options)), handler_(handler), observer_(observer) {
  options_.max_header_bytes = std::min(options_.max_header_bytes, kMaxHeaderBytes);
}

HttpServer::~HttpServer() {
  Shutdown();
}

Status HttpServer::Start() {
  Result<tcp::endpoint> ep = ParseListen(options_.listen);
  if (!ep.ok()) return ep.status();
  max_connections_ = options_.max_connections;
  if (max_connections_ == 0) {
    size_t allowed = ConnectionsTheFileLimitAllows(RaiseOpenFileLimit());
    max_connections_ = allowed > 2 * options_.descriptors_used_elsewhere
                           ? allowed - options_.descriptors_used_elsewhere
                           : allowed / 2;
  }
  if (tls()) {
    if (Status s = ReloadTls(); !s.ok()) return s;
  }
  int threads = options_.threads > 0 ? options_.threads
                                     : std::max(1, int(std::thread::hardware_concurrency()));
  tcp::endpoint endpoint = *ep;
  for (int i = 0; i < threads; ++i) {
    auto w = std::make_unique<Worker>();
    w->acceptor = std::make_unique<tcp::acceptor>(w->io);
    boost::system::error_code ec;
    w->acceptor->open(endpoint.protocol(), ec);
    if (!ec) w->acceptor->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) {
      int one = 1;
      if (setsockopt(w->acceptor->native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) !=
          0) {
        ec = boost::system::error_code(errno, boost::system::system_category());
      }
    }
    if (!ec) w->acceptor->bind(endpoint, ec);
    if (!ec) w->acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return Status::Unavailable("cannot listen on " + options_.listen + ": " + ec.message());
    }
    // With port 0 the first acceptor picks the port; the others share it.
    endpoint.port(w->acceptor->local_endpoint().port());
    workers_.push_back(std::move(w));
  }
  port_ = endpoint.port();
  for (size_t i = 0; i < workers_.size(); ++i) workers_[i]->index = int(i);
  for (auto& w : workers_) {
    w->sweeper = std::make_unique<asio::steady_timer>(w->io);
    Sweep(*w);
    Accept(*w);
    w->thread = std::thread([io = &w->io] { RunWorker(*io); });
  }
  return Status::Ok();
}

Status HttpServer::ReloadTls() {
  if (!tls()) return Status::FailedPrecondition("TLS is not configured (TlsCertificateFile)");
  Result<std::shared_ptr<ssl::context>> loaded =
      LoadTls(options_.tls_certificate_file, options_.tls_key_file);
  if (!loaded.ok()) return loaded.status();
  std::lock_guard lock(tls_mu_);
  ssl_ = std::move(loaded).value();
  return Status::Ok();
}

std::shared_ptr<ssl::context> HttpServer::CurrentTls() {
  std::lock_guard lock(tls_mu_);
  return ssl_;
}

void HttpServer::Accept(Worker& w) {
  w.acceptor->async_accept([this, &w](boost::system::error_code ec, tcp::socket socket) {
    if (ec) {
      if (ec == asio::error::operation_aborted || stopping_) return;
      // Out of descriptors (or similar): back off instead of spinning on the error.
      LogWarn("accept failed", {{"error", ec.message()}});
      auto pause = std::make_shared<asio::steady_timer>(w.io, std::chrono::milliseconds(100));
      pause->async_wait([this, &w, pause](boost::system::error_code) {
        if (!stopping_) Accept(w);
      });
      return;
    }
    Serve(w, std::move(socket));
    if (!stopping_) Accept(w);
  });
}

void HttpServer::Serve(Worker& w, tcp::socket socket) {
  boost::system::error_code ignored;
  tcp::endpoint peer = socket.remote_endpoint(ignored);
  // Trusted proxies carry many clients' connections: never capped per address.
  bool capped_address = options_.max_connections_per_address > 0 &&
                        !options_.trusted_proxies.Contains(peer.address());
  std::shared_ptr<ssl::context> tls = CurrentTls();
  std::shared_ptr<HttpConnection> s = NewConnection(*this, std::move(socket), tls.get(), w.index);
  std::string why;
  if (!Register(s, capped_address, &why)) return s->Refuse(why);
  s->Start();
}

void HttpServer::Sweep(Worker& w) {
  w.sweeper->expires_after(std::chrono::milliseconds(250));
  w.sweeper->async_wait([this, &w](boost::system::error_code ec) {
    if (ec) return;
    auto now = std::chrono::steady_clock::now();
    std::vector<std::shared_ptr<HttpConnection>> mine;
    {
      std::lock_guard lock(connections_mu_);
      for (auto& [ptr, weak] : connections_) {
        if (ptr->worker() != w.index) continue;
        if (auto s = weak.lock()) mine.push_back(std::move(s));
      }
    }
    for (auto& s : mine) s->CheckDeadline(now);
    Sweep(w);
  });
}

bool HttpServer::Register(const std::shared_ptr<HttpConnection>& s, bool capped_address,
                          std::string* why) {
  const std::string& address = s->peer_address();
  {
    std::lock_guard lock(connections_mu_);
    if (connections_.size() >= max_connections_) {
      *why =
          "the server has its maximum of " + std::to_string(max_connections_) + " connections open";
    } else if (capped_address && per_address_[address] >= options_.max_connections_per_address) {
      *why = "your address has its maximum of " +
             std::to_string(options_.max_connections_per_address) + " connections open";
    } else {
      connections_.emplace(s.get(), s);
      ++per_address_[address];
      return true;
    }
  }
  // One warning a second at most: a flood must not also flood the log.
  auto now = std::chrono::steady_clock::now().time_since_epoch().count();
  auto last = last_refusal_log_.load();
  if (now - last > std::chrono::steady_clock::duration(std::chrono::seconds(1)).count() &&
      last_refusal_log_.compare_exchange_strong(last, now)) {
    LogWarn("connection refused", {{"reason", *why}, {"client", address}});
  }
  if (observer_) observer_->OnRequest("(refused)", 503, 0);
  return false;
}

bool HttpServer::TakeUploadSlot() {
  size_t taken = uploads_.load();
  do {
    if (taken >= options_.uploads_at_once) return false;
  } while (!uploads_.compare_exchange_weak(taken, taken + 1));
  return true;
}

void HttpServer::Unregister(HttpConnection* s) {
  std::lock_guard lock(connections_mu_);
  if (connections_.erase(s) == 0) return;  // refused: never counted
  auto it = per_address_.find(s->peer_address());
  if (it != per_address_.end() && --it->second == 0) per_address_.erase(it);
}

size_t HttpServer::open_connections() {
  std::lock_guard lock(connections_mu_);
  return connections_.size();
}

void HttpServer::Record(std::string_view method, std::string_view route, std::string_view path,
                        const std::string& client, int status, double seconds) {
  if (observer_) observer_->OnRequest(route, status, seconds);
  if (options_.access_log) LogAccess(method, route, path, client, status, seconds);
}

void HttpServer::Shutdown(const std::function<void()>& before_stop) {
  if (workers_.empty() || stopping_.exchange(true)) return;
  for (auto& w : workers_) {
    asio::post(w->io, [a = w->acceptor.get()] {
      boost::system::error_code ec;
      a->close(ec);
    });
  }
  handler_.OnShutdown();
  std::vector<std::shared_ptr<HttpConnection>> live;
  {
    std::lock_guard lock(connections_mu_);
    for (auto& [ptr, weak] : connections_) {
      if (auto s = weak.lock()) live.push_back(std::move(s));
    }
  }
  for (auto& s : live) asio::post(s->executor(), [s] { s->Drain(); });
  live.clear();
  auto deadline = std::chrono::steady_clock::now() + options_.shutdown_grace;
  while (open_connections() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  // Work still queued elsewhere may answer through a connection; it must finish while the
  // workers still run, or it would touch destroyed io_contexts.
  if (before_stop) before_stop();
  size_t left = open_connections();
  if (left > 0)
    LogWarn("shutdown: closing connections that did not finish in time", {{"connections", left}});
  for (auto& w : workers_) w->io.stop();
  for (auto& w : workers_) {
    if (w->thread.joinable()) w->thread.join();
  }
  workers_.clear();
}

}  // namespace apm
