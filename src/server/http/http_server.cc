#include "server/http/http_server.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>

#include <array>
#include <ctime>
#include <nlohmann/json.hpp>

#include "server/logging.h"

namespace apm {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;

// The Date header, formatted once per second per thread.
const std::string& HttpDate() {
  thread_local time_t last = 0;
  thread_local std::string text;
  time_t now = time(nullptr);
  if (now != last) {
    struct tm tm;
    gmtime_r(&now, &tm);
    char buf[64];
    strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    text = buf;
    last = now;
  }
  return text;
}

StringResponse ErrorResponse(http::status status, const char* code, const std::string& message) {
  StringResponse res{status, 11};
  res.set(http::field::content_type, "application/json");
  res.body() = nlohmann::json{{"error", {{"code", code}, {"message", message}}}}.dump();
  res.prepare_payload();
  res.keep_alive(false);
  return res;
}

template <class Stream>
class Session : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
 public:
  Session(HttpServer& server, Stream&& stream, tcp::endpoint peer, int worker)
      : SessionBase(worker), server_(server), stream_(std::move(stream)), peer_(peer) {}

  ~Session() override { server_.Unregister(this); }

  void Start() {
    if constexpr (kTls) {
      SetDeadline(server_.options().idle_timeout);
      stream_.async_handshake(ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (ec) return self->Close();
                                self->DoRead();
                              });
    } else {
      DoRead();
    }
  }

  void Drain() override {
    closing_ = true;
    if (!busy_) {
      boost::system::error_code ec;
      Lowest().cancel(ec);
    }
  }

  void CheckDeadline(std::chrono::steady_clock::time_point now) override {
    if (now < deadline_) return;
    deadline_ = std::chrono::steady_clock::time_point::max();
    // Closing the socket fails whatever operation is pending; its handler ends the session.
    boost::system::error_code ec;
    Lowest().close(ec);
  }

  asio::any_io_executor executor() override { return stream_.get_executor(); }

 private:
  static constexpr bool kTls = !std::is_same_v<Stream, tcp::socket>;

  tcp::socket& Lowest() { return beast::get_lowest_layer(stream_); }

  // Deadlines are checked by the worker's sweeper (HttpServer::Sweep): a store here instead of
  // a timer re-arm and a cancellation per operation.
  void SetDeadline(std::chrono::steady_clock::duration d) {
    deadline_ = std::chrono::steady_clock::now() + d;
  }
  void ClearDeadline() { deadline_ = std::chrono::steady_clock::time_point::max(); }

  void DoRead() {
    if (closing_ || server_.stopping()) return Close();
    parser_.emplace();
    parser_->header_limit(uint32_t(server_.options().max_header_bytes));
    parser_->body_limit(server_.options().max_body_bytes);
    // One deadline covers the wait for the next request and reading all of it, so neither an
    // idle nor a trickling connection can hold a slot for longer.
    SetDeadline(server_.options().idle_timeout);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == asio::error::eof ||
        ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor ||
        ec == asio::error::connection_reset) {
      return Close();
    }
    started_ = std::chrono::steady_clock::now();
    if (ec == http::error::body_limit) {
      return SendError(http::status::payload_too_large, "payload_too_large",
                       "request body is larger than " +
                           std::to_string(server_.options().max_body_bytes) + " bytes");
    }
    if (ec == http::error::header_limit) {
      return SendError(http::status::request_header_fields_too_large, "header_too_large",
                       "request headers are larger than " +
                           std::to_string(server_.options().max_header_bytes) + " bytes");
    }
    if (ec) {
      if (ec.category() == beast::http::make_error_code(http::error::bad_target).category()) {
        return SendError(http::status::bad_request, "bad_request",
                         "malformed HTTP request: " + ec.message());
      }
      return Close();
    }
    busy_ = true;
    HttpRequest req;
    req.message = parser_->release();
    keep_alive_ = req.message.keep_alive();
    method_ = std::string(req.message.method_string());
    head_ = req.message.method() == http::verb::head;
    std::string_view target = req.message.target();
    size_t q = target.find('?');
    req.path = std::string(target.substr(0, q));
    if (q != std::string_view::npos) req.query = std::string(target.substr(q + 1));
    path_ = req.path;
    TrustedProxies::Client client = server_.options().trusted_proxies.Resolve(
        peer_.address(), kTls, req.message["X-Forwarded-For"], req.message["X-Forwarded-Proto"]);
    req.client_address = client.address;
    req.secure = client.secure;
    client_ = client.address;
    req.executor = stream_.get_executor();
    // A handler may hold the request (long-poll); its own timer bounds that, not the socket's.
    ClearDeadline();
    auto self = this->shared_from_this();
    auto answered = std::make_shared<std::atomic<bool>>(false);
    Reply reply = [self, answered](AnyResponse res, std::string_view route) {
      if (answered->exchange(true)) {
        LogError("handler answered a request twice", {{"route", route}});
        return;
      }
      // Inline when answered on the connection's own thread; posted from elsewhere.
      asio::dispatch(self->stream_.get_executor(),
                     [self, res = std::move(res), route = std::string(route)]() mutable {
                       self->Send(std::move(res), route);
                     });
    };
    // A handler bug must cost one request (500), never the worker thread and the process.
    try {
      server_.handler().Handle(std::move(req), reply);
    } catch (const std::exception& e) {
      LogError("handler failed", {{"error", e.what()}, {"path", path_}});
      if (!answered->load()) {
        reply(ErrorResponse(http::status::internal_server_error, "internal", "internal error"),
              "(error)");
      }
    }
  }

  void SendError(http::status status, const char* code, const std::string& message) {
    busy_ = true;
    head_ = false;
    keep_alive_ = false;
    method_ = parser_ && parser_->is_header_done() ? std::string(parser_->get().method_string())
                                                   : std::string("-");
    path_ = "-";
    client_ = peer_.address().to_string();
    Send(ErrorResponse(status, code, message), "(invalid)");
  }

  void Send(AnyResponse res, const std::string& route) {
    route_ = route;
    // Recorded before the write, so the log and metrics never lag behind what a client saw.
    std::visit([&](auto& r) { status_ = r.result_int(); }, res);
    double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    server_.Record(method_, route_, path_, client_, status_, secs);
    if (std::visit([](auto& r) { return r[kDropConnectionHeader] == "1"; }, res)) {
      // No answer and no orderly shutdown: the peer sees the connection end mid-request.
      busy_ = false;
      beast::error_code ec;
      Lowest().close(ec);
      return;
    }
    std::visit(
        [&](auto& r) {
          using Msg = std::decay_t<decltype(r)>;
          r.set(http::field::date, HttpDate());
          if constexpr (std::is_same_v<Msg, StringResponse>) {
            // A HEAD answer carries the length of the body it stands for, and no body.
            if (head_ && !r.body().empty()) {
              r.content_length(r.body().size());
              r.body().clear();
            }
          }
          r.keep_alive(keep_alive_ && !closing_ && !server_.stopping());
          auto msg = std::make_shared<Msg>(std::move(r));
          SetDeadline(server_.options().write_timeout);
          http::async_write(stream_, *msg,
                            [self = this->shared_from_this(), msg](beast::error_code ec, size_t) {
                              self->OnWrite(ec, msg->keep_alive());
                            });
        },
        res);
  }

  void OnWrite(beast::error_code ec, bool keep_alive) {
    busy_ = false;
    if (ec) return Close();
    if (!keep_alive) return LingeringClose();
    DoRead();
  }

  // After answering on a connection we will not read from again (an error such as 413, or
  // "Connection: close"): stop sending, then read and drop what the client still sends for a
  // moment, so that closing with unread data does not reset the connection and destroy the
  // answer before the client has read it.
  void LingeringClose() {
    if constexpr (kTls) {
      Close();
    } else {
      beast::error_code ec;
      Lowest().shutdown(tcp::socket::shutdown_send, ec);
      SetDeadline(std::chrono::seconds(2));
      Discard();
    }
  }

  void Discard() {
    Lowest().async_read_some(asio::buffer(discard_),
                             [self = this->shared_from_this()](beast::error_code ec, size_t) {
                               if (ec) {
                                 beast::error_code ignored;
                                 self->Lowest().close(ignored);
                                 return;
                               }
                               self->Discard();
                             });
  }

  void Close() {
    beast::error_code ec;
    if constexpr (kTls) {
      SetDeadline(std::chrono::seconds(2));
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {
        beast::error_code ignored;
        self->Lowest().close(ignored);
      });
    } else {
      Lowest().shutdown(tcp::socket::shutdown_send, ec);
      Lowest().close(ec);
    }
  }

  HttpServer& server_;
  Stream stream_;
  tcp::endpoint peer_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  bool busy_ = false;
  bool closing_ = false;
  bool keep_alive_ = false;
  std::chrono::steady_clock::time_point started_;
  std::string method_, path_, route_, client_;
  int status_ = 0;
  bool head_ = false;
  std::array<char, 4096> discard_;
  std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();
};

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

}  // namespace

HttpServer::HttpServer(HttpServerOptions options, HttpHandler& handler, RequestObserver* observer)
    : options_(std::move(options)), handler_(handler), observer_(observer) {}

HttpServer::~HttpServer() {
  Shutdown();
}

Status HttpServer::Start() {
  Result<tcp::endpoint> ep = ParseListen(options_.listen);
  if (!ep.ok()) return ep.status();
  if (!options_.tls_certificate_file.empty()) {
    ssl_ = std::make_unique<ssl::context>(ssl::context::tls_server);
    ssl_->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                      ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                      ssl::context::single_dh_use);
    boost::system::error_code ec;
    ssl_->use_certificate_chain_file(options_.tls_certificate_file, ec);
    if (ec) {
      return Status::InvalidArgument("TlsCertificateFile " + options_.tls_certificate_file + ": " +
                                     ec.message());
    }
    ssl_->use_private_key_file(options_.tls_key_file, ssl::context::pem, ec);
    if (ec)
      return Status::InvalidArgument("TlsKeyFile " + options_.tls_key_file + ": " + ec.message());
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
    w->thread = std::thread([io = &w->io] { io->run(); });
  }
  return Status::Ok();
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
    } else {
      boost::system::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      tcp::endpoint peer = socket.remote_endpoint(ignored);
      if (ssl_) {
        auto s = std::make_shared<Session<ssl::stream<tcp::socket>>>(
            *this, ssl::stream<tcp::socket>(std::move(socket), *ssl_), peer, w.index);
        Register(s);
        s->Start();
      } else {
        auto s = std::make_shared<Session<tcp::socket>>(*this, std::move(socket), peer, w.index);
        Register(s);
        s->Start();
      }
    }
    if (!stopping_) Accept(w);
  });
}

void HttpServer::Sweep(Worker& w) {
  w.sweeper->expires_after(std::chrono::milliseconds(250));
  w.sweeper->async_wait([this, &w](boost::system::error_code ec) {
    if (ec) return;
    auto now = std::chrono::steady_clock::now();
    std::vector<std::shared_ptr<SessionBase>> mine;
    {
      std::lock_guard lock(sessions_mu_);
      for (auto& [ptr, weak] : sessions_) {
        if (ptr->worker() != w.index) continue;
        if (auto s = weak.lock()) mine.push_back(std::move(s));
      }
    }
    for (auto& s : mine) s->CheckDeadline(now);
    Sweep(w);
  });
}

void HttpServer::Register(const std::shared_ptr<SessionBase>& s) {
  std::lock_guard lock(sessions_mu_);
  sessions_.emplace(s.get(), s);
}

void HttpServer::Unregister(SessionBase* s) {
  std::lock_guard lock(sessions_mu_);
  sessions_.erase(s);
}

size_t HttpServer::open_connections() {
  std::lock_guard lock(sessions_mu_);
  return sessions_.size();
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
  std::vector<std::shared_ptr<SessionBase>> live;
  {
    std::lock_guard lock(sessions_mu_);
    for (auto& [ptr, weak] : sessions_) {
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
