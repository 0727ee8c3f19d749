// The HTTP layer over real sockets: what it refuses, what it survives, and how it notices
// clients that leave. Each test named after a finding of security issue 10 failed before its fix.
#include "server/http/http_server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/post.hpp>

#include <condition_variable>
#include <map>
#include <mutex>
#include <stdexcept>
#include <vector>

#include "server/testing/raw_connection.h"

namespace apm {
namespace {

using apm::testing::RawConnection;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using namespace std::chrono_literals;

// Routes: /echo answers with what the server made of the request; /throw throws from the
// handler; /throw-later throws from a completion handler on the connection's thread; /hold
// never answers until the client goes away.
class TestHandler : public HttpHandler {
 public:
  void Handle(InboundRequest req, Reply reply) override {
    if (req.path == "/throw") throw std::runtime_error("handler bug");
    if (req.path == "/throw-later") {
      boost::asio::post(req.executor, [] { throw std::runtime_error("completion handler bug"); });
    }
    if (req.path == "/hold") {
      // Held like a long-poll; dropped (releasing the connection) when the client goes.
      int key;
      {
        std::lock_guard lock(mu_);
        key = next_key_++;
        held_.emplace(key, reply);
      }
      if (req.peer_gone) {
        req.peer_gone->OnGone([this, key] {
          std::lock_guard lock(mu_);
          held_.erase(key);
          ++gone_;
          cv_.notify_all();
        });
      }
      return;
    }
    StringResponse res{http::status::ok, 11};
    res.body() = req.client_address + " " + (req.secure ? "https" : "http") + " " +
                 std::to_string(req.message.body().size());
    res.prepare_payload();
    reply(std::move(res), "/echo");
  }

  // Waits until `n` held requests have been told that their client went away.
  bool WaitForGone(int n, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return gone_ >= n; });
  }
  int gone() {
    std::lock_guard lock(mu_);
    return gone_;
  }
  void ReleaseHeld() {
    std::lock_guard lock(mu_);
    held_.clear();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<int, Reply> held_;
  int next_key_ = 0;
  int gone_ = 0;
};

class HttpServerTest : public ::testing::Test {
 protected:
  void Start(HttpServerOptions o = {}) {
    o.listen = "127.0.0.1:0";
    o.threads = 1;
    o.access_log = false;
    server_ = std::make_unique<HttpServer>(o, handler_, nullptr);
    ASSERT_TRUE(server_->Start().ok());
  }
  void TearDown() override {
    handler_.ReleaseHeld();
    if (server_) server_->Shutdown();
  }

  std::string Exchange(std::string_view bytes, std::chrono::milliseconds timeout = 5s) {
    return apm::testing::RawExchange(server_->port(), bytes, timeout);
  }
  // The server still answers a plain request.
  bool Healthy() {
    return Exchange("GET /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 2s)
        .starts_with("HTTP/1.1 200");
  }
  static std::string Chunked(std::string_view trailer) {
    return "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
           "3\r\nabc\r\n0\r\n" +
           std::string(trailer) + "\r\n";
  }

  TestHandler handler_;
  std::unique_ptr<HttpServer> server_;
};

// Finding 1: a 65,535-byte trailer field made Beast throw std::length_error and the process
// died. Trailers now share the header's bound.
TEST_F(HttpServerTest, HugeTrailerFieldIs431AndTheServerStaysUp) {
  Start();
  std::string answer = Exchange(Chunked("X: " + std::string(65535, 'a') + "\r\n"));
  EXPECT_THAT(answer, StartsWith("HTTP/1.1 431"));
  EXPECT_THAT(answer, HasSubstr("header_too_large"));
  EXPECT_TRUE(Healthy());
}

// Finding 1: no exception from the parser, a handler or a completion handler ends the process.
TEST_F(HttpServerTest, ExceptionsFromEachLayerCostOneConnection) {
  HttpServerOptions o;
  o.max_header_bytes = 128 * 1024;  // more than Beast can store in one field: clamped
  Start(o);
  EXPECT_EQ(server_->options().max_header_bytes, HttpServer::kMaxHeaderBytes);
  std::string parser =
      Exchange("GET /echo HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(70000, 'b') + "\r\n\r\n");
  EXPECT_THAT(parser, StartsWith("HTTP/1.1 431"));
  EXPECT_TRUE(Healthy());

  std::string handler = Exchange("GET /throw HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_THAT(handler, StartsWith("HTTP/1.1 500"));
  EXPECT_TRUE(Healthy());

  std::string later = Exchange("GET /throw-later HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_THAT(later, StartsWith("HTTP/1.1 200"));
  EXPECT_TRUE(Healthy());
  for (int i = 0; i < 100 && server_->open_connections() > 0; ++i)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(server_->open_connections(), 0u);
}

// Finding 5: chunk extensions and trailers are bounded like headers and bodies.
TEST_F(HttpServerTest, ChunkExtensionsAndTrailersAreBounded) {
  HttpServerOptions o;
  o.max_body_bytes = 4096;
  Start(o);
  // One chunk-size line longer than the header limit: refused before it is all read.
  RawConnection huge(server_->port());
  huge.Send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=" +
            std::string(1 << 20, 'e'));
  EXPECT_THAT(huge.ReadAll(5s), StartsWith("HTTP/1.1 431"));
  // Small chunks whose extensions add up past the body limit.
  std::string body;
  for (int i = 0; i < 10; ++i) body += "1;e=" + std::string(500, 'e') + "\r\nx\r\n";
  EXPECT_THAT(Exchange("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
                       body + "0\r\n\r\n"),
              StartsWith("HTTP/1.1 413"));
  // Trailer fields that fit the read buffer but, with the header, exceed the header limit.
  std::string trailer;
  for (int i = 0; i < 4; ++i)
    trailer += "T" + std::to_string(i) + ": " + std::string(2100, 't') + "\r\n";
  EXPECT_THAT(Exchange(Chunked(trailer)), StartsWith("HTTP/1.1 431"));
  // Within the limits all of it is fine.
  EXPECT_THAT(Exchange(Chunked("T: small\r\n") + "GET /echo HTTP/1.1\r\nHost: x\r\n"
                                                 "Connection: close\r\n\r\n"),
              StartsWith("HTTP/1.1 200"));
  EXPECT_TRUE(Healthy());
}

// Finding 4: a transfer coding we cannot frame exactly is refused and the connection closed,
// so nothing after it can be read as a second (smuggled) request.
TEST_F(HttpServerTest, TransferCodingsThatCouldSmuggleAreRefused) {
  Start();
  const std::string smuggled = "GET /echo?smuggled HTTP/1.1\r\nHost: x\r\n\r\n";
  for (const std::string& framing :
       {std::string("Transfer-Encoding: xchunked\r\nContent-Length: 5\r\n"),
        std::string("Transfer-Encoding: chunked, identity\r\nContent-Length: 5\r\n"),
        std::string("Transfer-Encoding: identity\r\n"),
        std::string("Transfer-Encoding: gzip, chunked\r\n"),
        std::string("Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n"),
        std::string("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n")}) {
    std::string answer =
        Exchange("POST /echo HTTP/1.1\r\nHost: x\r\n" + framing + "\r\n0\r\n\r\n" + smuggled);
    EXPECT_THAT(answer, StartsWith("HTTP/1.1 400")) << framing;
    EXPECT_THAT(answer, HasSubstr("Connection: close")) << framing;
    EXPECT_EQ(answer.find("HTTP/1.1", 1), std::string::npos) << "a second answer: " << framing;
  }
  EXPECT_THAT(Exchange("POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
              StartsWith("HTTP/1.1 400"));
  // Plain chunked (any case) is read as before.
  EXPECT_THAT(Exchange("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n"
                       "Connection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n"),
              StartsWith("HTTP/1.1 200"));
}

// Finding 7: HTTP/1.1 needs exactly one Host; HTTP/1.0 may omit it.
TEST_F(HttpServerTest, HostIsRequiredOnceInHttp11) {
  Start();
  EXPECT_THAT(Exchange("GET /echo HTTP/1.1\r\n\r\n"), StartsWith("HTTP/1.1 400"));
  EXPECT_THAT(Exchange("GET /echo HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
              StartsWith("HTTP/1.1 400"));
  EXPECT_THAT(Exchange("GET /echo HTTP/1.0\r\n\r\n"), StartsWith("HTTP/1.1 200"));
}

// Finding 7: answers the HTTP layer writes itself are not cached or sniffed; HSTS over https.
TEST_F(HttpServerTest, LayerAnswersCarrySafetyHeadersAndHttpsGetsHsts) {
  HttpServerOptions o;
  o.trusted_proxies = *TrustedProxies::Parse({"127.0.0.1"});
  Start(o);
  std::string bad = Exchange("GET /echo HTTP/1.1\r\n\r\n");
  EXPECT_THAT(bad, HasSubstr("Cache-Control: no-store"));
  EXPECT_THAT(bad, HasSubstr("X-Content-Type-Options: nosniff"));
  std::string https = Exchange(
      "GET /echo HTTP/1.1\r\nHost: x\r\nX-Forwarded-Proto: https\r\nConnection: close\r\n\r\n");
  EXPECT_THAT(https, HasSubstr("Strict-Transport-Security: max-age=31536000"));
  EXPECT_THAT(Exchange("GET /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
              Not(HasSubstr("Strict-Transport-Security")));
}

// RequiredFrontDoorId: refused before the body is read (a body never sent is not waited for),
// a HEAD's refusal without a body, the profile's requests through to the handler.
TEST_F(HttpServerTest, RequestsAroundTheFrontDoorAreRefusedBeforeTheirBody) {
  HttpServerOptions o;
  o.front_door_ids = {"55ce4ed1-4b06-4bf1-b40e-4638452104da"};
  Start(o);
  std::string post =
      Exchange("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 50000\r\n\r\nonly a little", 2s);
  EXPECT_THAT(post, StartsWith("HTTP/1.1 403"));
  EXPECT_THAT(post, HasSubstr("Azure Front Door"));
  std::string head = Exchange("HEAD /echo HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_THAT(head, StartsWith("HTTP/1.1 403"));
  EXPECT_THAT(head, EndsWith("\r\n\r\n")) << "a HEAD answer has no body";
  EXPECT_THAT(Exchange("GET /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                       "X-Azure-FDID: 55ce4ed1-4b06-4bf1-b40e-4638452104da\r\n\r\n"),
              StartsWith("HTTP/1.1 200"));
}

// Upload routes take a larger body than the rest, a few at a time: with one slot held by an
// upload whose body is still arriving, another upload is answered 503 before its body is read.
TEST_F(HttpServerTest, UploadRoutesTakeLargerBodiesAFewAtATime) {
  HttpServerOptions o;
  o.max_body_bytes = 4096;
  o.uploads = {{http::verb::post, "/upload", 100000}, {http::verb::post, "/r/{id}/big", 8000}};
  o.uploads_at_once = 1;
  Start(o);
  auto post = [](std::string_view path, size_t bytes) {
    return "POST " + std::string(path) +
           " HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(bytes) +
           "\r\nConnection: close\r\n\r\n" + std::string(bytes, 'x');
  };
  EXPECT_THAT(Exchange(post("/upload?from=test", 100000)), EndsWith(" 100000"));
  // A pattern's "{id}" takes any one segment, and only one.
  EXPECT_THAT(Exchange(post("/r/abc/big?name=x", 8000)), EndsWith(" 8000"));
  EXPECT_THAT(Exchange(post("/r/abc/big", 8001)), StartsWith("HTTP/1.1 413"));
  EXPECT_THAT(Exchange(post("/r/a/b/big", 5000)), StartsWith("HTTP/1.1 413"));
  std::string too_large = Exchange(post("/upload", 100001));
  EXPECT_THAT(too_large, StartsWith("HTTP/1.1 413"));
  EXPECT_THAT(too_large, HasSubstr("larger than 100000 bytes"));
  EXPECT_THAT(Exchange(post("/echo", 5000)), StartsWith("HTTP/1.1 413"));
  EXPECT_THAT(Exchange("PUT /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n" +
                       std::string(5000, 'x')),
              StartsWith("HTTP/1.1 413"))
      << "only the method named takes the larger body";

  RawConnection slow(server_->port());
  const std::string whole = post("/upload", 50000);
  slow.Send(whole.substr(0, 1000));
  std::string busy;
  for (int i = 0; i < 100 && !busy.starts_with("HTTP/1.1 503"); ++i) {
    busy = Exchange(post("/upload", 10), 2s);
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_THAT(busy, StartsWith("HTTP/1.1 503"));
  EXPECT_THAT(busy, HasSubstr("Retry-After: 30"));
  EXPECT_THAT(busy, HasSubstr("uploads_busy"));
  EXPECT_TRUE(Healthy()) << "other requests go on";
  slow.Send(whole.substr(1000));
  EXPECT_THAT(slow.ReadAll(5s), EndsWith(" 50000"));
  slow.Close();
  std::string after;
  for (int i = 0; i < 100 && !after.starts_with("HTTP/1.1 200"); ++i) {
    after = Exchange(post("/upload", 10), 2s);
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_THAT(after, StartsWith("HTTP/1.1 200")) << "the slot is returned";
}

// Finding 6: every X-Forwarded-For line counts; the client is the right-most untrusted hop.
TEST_F(HttpServerTest, AllForwardedForLinesAreRead) {
  HttpServerOptions o;
  o.trusted_proxies = *TrustedProxies::Parse({"127.0.0.1"});
  Start(o);
  std::string answer = Exchange(
      "GET /echo HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 198.51.100.66\r\n"
      "X-Forwarded-For: 203.0.113.9\r\nConnection: close\r\n\r\n");
  EXPECT_THAT(answer, HasSubstr("\r\n\r\n203.0.113.9 http"));
}

// Finding 2: a client that closes (FIN or RST) a held request is noticed at once.
TEST_F(HttpServerTest, ClientsLeavingHeldRequestsAreNoticed) {
  Start();
  constexpr int kClients = 20;
  for (int i = 0; i < kClients; ++i) {
    RawConnection c(server_->port());
    c.Send("GET /hold HTTP/1.1\r\nHost: x\r\n\r\n");
    c.ReadAll(20ms);  // the server has the request
    if (i % 2) c.Reset();
  }
  EXPECT_TRUE(handler_.WaitForGone(kClients, 2s)) << handler_.gone();
  // A client that sends more bytes while held and then leaves: readiness alone does not tell.
  RawConnection more(server_->port());
  more.Send("GET /hold HTTP/1.1\r\nHost: x\r\n\r\n");
  more.ReadAll(50ms);
  more.Send("GET /echo HTTP/1.1\r\n");
  more.ReadAll(50ms);
  more.Close();
  EXPECT_TRUE(handler_.WaitForGone(kClients + 1, 2s)) << handler_.gone();
  // Every descriptor is free again.
  for (int i = 0; i < 100 && server_->open_connections() > 0; ++i)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(server_->open_connections(), 0u);
}

// Finding 2: connections beyond the caps get a clear answer and are closed.
TEST_F(HttpServerTest, ConnectionCapsAnswer503) {
  HttpServerOptions o;
  o.max_connections = 6;
  o.max_connections_per_address = 3;
  Start(o);
  EXPECT_EQ(server_->max_connections(), 6u);
  std::vector<std::unique_ptr<RawConnection>> open;
  for (int i = 0; i < 3; ++i) {
    open.push_back(std::make_unique<RawConnection>(server_->port()));
    open.back()->Send("GET /hold HTTP/1.1\r\nHost: x\r\n\r\n");
  }
  open.back()->ReadAll(50ms);
  // Refused at once, before the client has sent anything.
  std::string refused = RawConnection(server_->port()).ReadAll(2s);
  EXPECT_THAT(refused, StartsWith("HTTP/1.1 503"));
  EXPECT_THAT(refused, HasSubstr("too_many_connections"));
  EXPECT_THAT(refused, HasSubstr("your address"));
  open.pop_back();  // one leaves: there is room again
  EXPECT_TRUE(handler_.WaitForGone(1, 2s));
  for (int i = 0; i < 100 && server_->open_connections() > 2; ++i)
    std::this_thread::sleep_for(10ms);
  EXPECT_TRUE(Healthy());
}

TEST_F(HttpServerTest, TheOverallCapCountsEveryAddress) {
  HttpServerOptions o;
  o.max_connections = 2;
  Start(o);
  RawConnection a(server_->port()), b(server_->port());
  a.Send("GET /hold HTTP/1.1\r\nHost: x\r\n\r\n");
  b.Send("GET /hold HTTP/1.1\r\nHost: x\r\n\r\n");
  b.ReadAll(50ms);
  std::string refused = RawConnection(server_->port()).ReadAll(2s);
  EXPECT_THAT(refused, StartsWith("HTTP/1.1 503"));
  EXPECT_THAT(refused, HasSubstr("maximum of 2 connections"));
}

TEST_F(HttpServerTest, TrustedProxiesAreNotCappedPerAddress) {
  HttpServerOptions o;
  o.max_connections_per_address = 1;
  o.trusted_proxies = *TrustedProxies::Parse({"127.0.0.1"});
  Start(o);
  RawConnection a(server_->port());
  a.Send("GET /hold HTTP/1.1\r\nHost: x\r\n\r\n");
  a.ReadAll(50ms);
  EXPECT_TRUE(Healthy());
}

}  // namespace
}  // namespace apm
