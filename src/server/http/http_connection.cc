#include "server/http/http_connection.h"

#include "server/http/route_table.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>

#include <poll.h>
#include <sys/socket.h>

#include <array>
#include <ctime>
#include <nlohmann/json.hpp>

#include "core/http_date.h"
#include "server/http/request_checks.h"
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
    text = FormatHttpDate(now);
    last = now;
  }
  return text;
}

// Room in the read buffer beyond the header limit. Everything the parser must hold at once (the
// header, one chunk-size line with its extensions, the trailer) has to fit: so no client makes
// us buffer more than this, whatever it sends.
constexpr size_t kReadBufferSlack = 1024;

StringResponse ErrorResponse(http::status status, const char* code, const std::string& message) {
  StringResponse res{status, 11};
  res.set(http::field::content_type, "application/json");
  res.set(http::field::cache_control, "no-store");
  res.set("X-Content-Type-Options", "nosniff");
  res.body() = nlohmann::json{{"error", {{"code", code}, {"message", message}}}}.dump();
  res.prepare_payload();
  res.keep_alive(false);
  return res;
}

template <class Stream>
class StreamConnection : public HttpConnection,
                         public std::enable_shared_from_this<StreamConnection<Stream>> {
 public:
  StreamConnection(HttpServer& server, Stream&& stream, tcp::endpoint peer, int worker)
      : HttpConnection(worker, peer.address().to_string()),
        server_(server),
        stream_(std::move(stream)),
        peer_(peer),
        buffer_(server.options().max_header_bytes + kReadBufferSlack) {}

  ~StreamConnection() override {
    ReturnUploadSlot();
    server_.Unregister(this);
  }

  void Start() override {
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

  // Over a connection cap: a plain connection gets a short answer written at once (it cannot
  // block: the socket buffer is empty), then is closed; a TLS one is closed (an answer would
  // need a handshake, the cost the cap exists to avoid).
  void Refuse(std::string_view why) override {
    boost::system::error_code ec;
    if constexpr (!kTls) {
      std::string body = nlohmann::json{{"error",
                                         {{"code", "too_many_connections"},
                                          {"message", std::string(why) + "; try again"}}}}
                             .dump();
      std::string answer =
          "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
          "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nRetry-After: 5\r\n"
          "Connection: close\r\nContent-Length: " +
          std::to_string(body.size()) + "\r\n\r\n" + body;
      Lowest().non_blocking(true, ec);
      Lowest().write_some(asio::buffer(answer), ec);
      // What the client already sent is read, so closing does not reset the connection and
      // destroy the answer before it is read.
      Lowest().read_some(asio::buffer(discard_), ec);
      Lowest().shutdown(tcp::socket::shutdown_send, ec);
    }
    Lowest().close(ec);
  }

  void Drain() override {
    closing_ = true;
    if (!busy_) {
      boost::system::error_code ec;
      Lowest().cancel(ec);
    }
  }

  void CheckDeadline(std::chrono::steady_clock::time_point now) override {
    // A held request whose client sent more bytes: readiness no longer tells us of a close,
    // so look at each sweep.
    if (input_pending_ && PeerHasGone()) return PeerGoneWhileHeld();
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
    ReturnUploadSlot();  // the last request is answered
    parser_.emplace();
    parser_->header_limit(uint32_t(server_.options().max_header_bytes));
    // Beast checks a Content-Length against the limit as the header ends, before OnHeader knows
    // the route: the largest limit here, the route's own in OnHeader.
    body_limit_ = server_.options().max_body_bytes;
    for (const HttpServerOptions::Upload& u : server_.options().uploads) {
      body_limit_ = std::max(body_limit_, u.max_body_bytes);
    }
    parser_->body_limit(body_limit_);
    chunked_bytes_ = 0;
    parser_->on_chunk_header(count_chunk_);
    // One deadline covers the wait for the next request and reading all of it, so neither an
    // idle nor a trickling connection can hold a slot for longer.
    SetDeadline(server_.options().idle_timeout);
    // The header first: its framing is checked before a byte of the body is read.
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    if (ec) return OnRead(ec);
    const auto& header = parser_->get();
    if (std::optional<std::string> why = FramingError(header, header.version())) {
      started_ = std::chrono::steady_clock::now();
      return SendError(http::status::bad_request, "bad_request", *why);
    }
    // Before the body: a request that bypassed the Front Door costs no more than its header.
    if (std::optional<std::string> why = FrontDoorRefusal(header, header.method(), header.target(),
                                                          server_.options().front_door_ids)) {
      started_ = std::chrono::steady_clock::now();
      // The path is logged: an admin wants to see what went around the Front Door.
      std::string_view target = header.target();
      return SendError(http::status::forbidden, "forbidden", *why, "(front door)",
                       target.substr(0, target.find('?')));
    }
    const HttpServerOptions::Upload* upload = UploadRoute(header);
    body_limit_ = upload ? upload->max_body_bytes : server_.options().max_body_bytes;
    if (boost::optional<std::uint64_t> length = parser_->content_length();
        length && *length > body_limit_) {
      started_ = std::chrono::steady_clock::now();
      AnswerUnreadable(http::error::body_limit);
      return;
    }
    parser_->body_limit(body_limit_);  // for a chunked body
    if (upload) {
      if (!server_.TakeUploadSlot()) {
        started_ = std::chrono::steady_clock::now();
        return SendError(http::status::service_unavailable, "uploads_busy",
                         "other uploads are being read; try again in half a minute", "(upload)",
                         upload->path, /*retry_after=*/30);
      }
      holds_upload_slot_ = true;
      // Time for the body at the slowest rate we wait for, so a client trickling its body holds
      // a slot no longer than a real upload of that size would.
      const std::uint64_t bytes = parser_->content_length().value_or(body_limit_);
      SetDeadline(server_.options().idle_timeout +
                  std::chrono::seconds(bytes / server_.options().upload_min_bytes_per_second));
    }
    http::async_read(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  // The upload route this request is for, if any (the path exactly: what the route table would
  // read as the same page gets the ordinary limit).
  const HttpServerOptions::Upload* UploadRoute(const http::request_header<>& header) const {
    std::string_view target = header.target();
    const std::vector<std::string_view> segments = Segments(target.substr(0, target.find('?')));
    for (const HttpServerOptions::Upload& u : server_.options().uploads) {
      std::vector<std::string> params;
      if (u.method == header.method() && MatchPattern(u.path, segments, &params)) return &u;
    }
    return nullptr;
  }

  void ReturnUploadSlot() {
    if (holds_upload_slot_) server_.ReturnUploadSlot();
    holds_upload_slot_ = false;
  }

  // Chunk extensions count against the body limit, with the chunks they come with.
  void CountChunk(std::uint64_t size, beast::string_view extensions, beast::error_code& ec) {
    chunked_bytes_ += size + extensions.size();
    if (chunked_bytes_ > body_limit_) ec = http::error::body_limit;
  }

  void OnRead(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == asio::error::eof ||
        ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor ||
        ec == asio::error::connection_reset) {
      return Close();
    }
    started_ = std::chrono::steady_clock::now();
    if (AnswerUnreadable(ec)) return;
    busy_ = true;
    Dispatch(TakeRequest());
  }

  // Answers (or closes) a request that failed to read or breaks a limit; false when it is fine.
  bool AnswerUnreadable(beast::error_code ec) {
    const std::string header_limit = std::to_string(server_.options().max_header_bytes);
    auto too_large = [&](const std::string& what) {
      SendError(http::status::request_header_fields_too_large, "header_too_large",
                what + " larger than " + header_limit + " bytes");
      return true;
    };
    if (ec == http::error::body_limit) {
      SendError(http::status::payload_too_large, "payload_too_large",
                "request body (with chunk extensions) is larger than " +
                    std::to_string(body_limit_) + " bytes");
      return true;
    }
    // Something the parser must hold whole did not fit the read buffer.
    if (ec == http::error::buffer_overflow && parser_->is_header_done()) {
      return too_large("a chunk-size line or the trailer fields are");
    }
    if (ec == http::error::buffer_overflow || ec == http::error::header_limit) {
      return too_large("request headers are");
    }
    if (ec) {
      if (ec.category() == beast::http::make_error_code(http::error::bad_target).category()) {
        SendError(http::status::bad_request, "bad_request",
                  "malformed HTTP request: " + ec.message());
      } else {
        Close();
      }
      return true;
    }
    if (FieldBytes(parser_->get()) > server_.options().max_header_bytes) {
      return too_large("request header and trailer fields are");
    }
    return false;
  }

  // The parsed request, with the client's address and scheme as trusted proxies tell them.
  InboundRequest TakeRequest() {
    InboundRequest req;
    req.message = parser_->release();
    keep_alive_ = req.message.keep_alive();
    method_ = std::string(req.message.method_string());
    head_ = req.message.method() == http::verb::head;
    std::string_view target = req.message.target();
    size_t q = target.find('?');
    req.path = std::string(target.substr(0, q));
    if (q != std::string_view::npos) req.query = std::string(target.substr(q + 1));
    path_ = req.path;
    // Every line of the forwarding headers: a proxy may add its own line instead of appending.
    TrustedProxies::Client client = server_.options().trusted_proxies.Resolve(
        peer_.address(), kTls, JoinedFieldValues(req.message, "X-Forwarded-For"),
        JoinedFieldValues(req.message, "X-Forwarded-Proto"));
    req.client_address = client.address;
    req.secure = client.secure;
    secure_ = client.secure;
    client_ = client.address;
    req.executor = stream_.get_executor();
    peer_gone_ = std::make_shared<PeerGone>();
    req.peer_gone = peer_gone_;
    return req;
  }

  // Hands the request to the handler, with a Reply that answers on this connection.
  void Dispatch(InboundRequest req) {
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
    // Held for later (a long-poll): notice a client that goes away meanwhile.
    if (!answered->load()) WatchPeer();
  }

  // While a handler holds the request nothing reads the socket, so a client that closes would
  // go unnoticed until the answer; waiting for readability costs no read and no buffer.
  void WatchPeer() {
    watching_ = true;
    Lowest().async_wait(tcp::socket::wait_read,
                        [self = this->shared_from_this(), gen = ++watch_gen_](
                            beast::error_code ec) { self->OnPeerReadable(ec, gen); });
  }

  void StopWatchingPeer() {
    input_pending_ = false;
    if (!watching_) return;
    watching_ = false;
    ++watch_gen_;
    beast::error_code ignored;
    Lowest().cancel(ignored);  // only the wait is pending while a request is held
  }

  void OnPeerReadable(beast::error_code ec, uint64_t gen) {
    if (gen != watch_gen_) return;
    watching_ = false;
    if (ec) return;
    // Bytes of a next request are read after the answer; until then the sweeper polls.
    if (!PeerHasGone()) {
      input_pending_ = true;
      return;
    }
    PeerGoneWhileHeld();
  }

  // Free the descriptor now and let the handler stop waiting; its late answer finds the
  // connection closed.
  void PeerGoneWhileHeld() {
    input_pending_ = false;
    beast::error_code ignored;
    Lowest().close(ignored);
    if (peer_gone_) peer_gone_->Raise();
  }

  // FIN or RST from the peer (Linux reports a FIN as POLLRDHUP even with data unread); over
  // TLS also a pending alert record (close_notify comes just before the FIN).
  bool PeerHasGone() {
    pollfd p{Lowest().native_handle(), POLLIN | POLLRDHUP, 0};
    if (::poll(&p, 1, 0) <= 0) return false;
    if (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) return true;
    if constexpr (kTls) {
      unsigned char record_type = 0;
      constexpr unsigned char kTlsAlert = 0x15;
      return ::recv(p.fd, &record_type, 1, MSG_PEEK | MSG_DONTWAIT) == 1 &&
             record_type == kTlsAlert;
    }
    return false;
  }

  void SendError(http::status status, const char* code, const std::string& message,
                 const char* route = "(invalid)", std::string_view path = "-",
                 int retry_after = 0) {
    busy_ = true;
    // A HEAD request's refusal carries no body.
    head_ = parser_ && parser_->is_header_done() && parser_->get().method() == http::verb::head;
    keep_alive_ = false;
    secure_ = kTls;
    method_ = parser_ && parser_->is_header_done() ? std::string(parser_->get().method_string())
                                                   : std::string("-");
    path_ = std::string(path);
    client_ = peer_.address().to_string();
    StringResponse res = ErrorResponse(status, code, message);
    if (retry_after > 0) res.set(http::field::retry_after, std::to_string(retry_after));
    Send(std::move(res), route);
  }

  void Send(AnyResponse res, const std::string& route) {
    StopWatchingPeer();
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
          using ResponseType = std::decay_t<decltype(r)>;
          // A handler may answer with its own clock's (the tenant simulator's skewed clock).
          if (r.find(http::field::date) == r.end()) r.set(http::field::date, HttpDate());
          if (secure_) r.set("Strict-Transport-Security", HttpServer::kStrictTransportSecurity);
          if constexpr (std::is_same_v<ResponseType, StringResponse>) {
            // A HEAD answer carries the length of the body it stands for, and no body.
            if (head_ && !r.body().empty()) {
              r.content_length(r.body().size());
              r.body().clear();
            }
          }
          r.keep_alive(keep_alive_ && !closing_ && !server_.stopping());
          auto msg = std::make_shared<ResponseType>(std::move(r));
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
  std::uint64_t chunked_bytes_ = 0;  // chunk data and extensions of the current request
  size_t body_limit_ = 0;            // of the current request (larger for an upload)
  bool holds_upload_slot_ = false;   // until the next request, or the connection's end
  std::function<void(std::uint64_t, beast::string_view, beast::error_code&)> count_chunk_ =
      [this](std::uint64_t size, beast::string_view ext, beast::error_code& ec) {
        CountChunk(size, ext, ec);
      };
  std::shared_ptr<PeerGone> peer_gone_;  // of the request being answered
  bool watching_ = false;                // a WatchPeer wait is pending
  bool input_pending_ = false;           // held request, and the client has sent more bytes
  uint64_t watch_gen_ = 0;               // tells a cancelled wait's late completion apart
  bool secure_ = false;                  // the client came over https
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

}  // namespace

std::shared_ptr<HttpConnection> NewConnection(HttpServer& server, tcp::socket socket,
                                              ssl::context* tls, int worker) {
  boost::system::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  tcp::endpoint peer = socket.remote_endpoint(ignored);
  if (tls) {
    return std::make_shared<StreamConnection<ssl::stream<tcp::socket>>>(
        server, ssl::stream<tcp::socket>(std::move(socket), *tls), peer, worker);
  }
  return std::make_shared<StreamConnection<tcp::socket>>(server, std::move(socket), peer, worker);
}

}  // namespace apm
