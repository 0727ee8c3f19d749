#include "server/http/curl_outbound_http.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio.hpp>
#include <thread>

namespace apm {
namespace {

namespace asio = boost::asio;

OutboundRequest Request(std::string method, std::string url, std::string body = {},
                        bool idempotent = true) {
  OutboundRequest r;
  r.method = std::move(method);
  r.url = std::move(url);
  r.body = std::move(body);
  r.idempotent = idempotent;
  return r;
}
using asio::ip::tcp;

// A server that answers the first request on each connection and reads the second one, then
// closes the connection without an answer: the moment libcurl re-sends on its own.
class AnswerOncePerConnectionServer {
 public:
  AnswerOncePerConnectionServer()
      : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    thread_ = std::thread([this] { Serve(); });
  }
  ~AnswerOncePerConnectionServer() {
    stopping_ = true;
    boost::system::error_code ignored;
    tcp::socket poke(io_);
    poke.connect(acceptor_.local_endpoint(), ignored);  // wakes the blocking accept
    thread_.join();
    for (std::thread& t : connections_) t.join();  // the client closed its connections first
  }
  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "/x";
  }
  int arrivals() const { return arrivals_; }

 private:
  void Serve() {
    while (!stopping_) {
      tcp::socket socket(io_);
      boost::system::error_code ec;
      acceptor_.accept(socket, ec);
      if (ec || stopping_) return;
      connections_.emplace_back([this, s = std::move(socket)]() mutable { Answer(s); });
    }
  }
  void Answer(tcp::socket& socket) {
    boost::system::error_code ec;
    for (int on_connection = 1; ReadRequest(socket); ++on_connection) {
      ++arrivals_;
      if (on_connection == 2) return;  // closed unanswered
      asio::write(socket,
                  asio::buffer(std::string_view("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")),
                  ec);
    }
  }
  // Reads one request's head and its Content-Length body; false when the peer closed.
  static bool ReadRequest(tcp::socket& socket) {
    std::string data;
    boost::system::error_code ec;
    size_t head = asio::read_until(socket, asio::dynamic_buffer(data), "\r\n\r\n", ec);
    if (ec) return false;
    size_t length = 0;
    if (size_t at = data.find("Content-Length: "); at != std::string::npos && at < head) {
      length = std::stoul(data.substr(at + 16));
    }
    if (data.size() < head + length) {
      asio::read(socket, asio::dynamic_buffer(data),
                 asio::transfer_exactly(head + length - data.size()), ec);
    }
    return !ec;
  }

  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> arrivals_{0};
  std::thread thread_;
  std::vector<std::thread> connections_;  // touched by thread_ only until it is joined
};

TEST(CurlOutboundHttp, ABudgetedRequestIsNeverSentAgainBehindTheCallersBack) {
  AnswerOncePerConnectionServer server;
  CurlOutboundHttp http;
  OutboundRequest get = Request("GET", server.url());
  get.send_once = true;
  SendReport first, second;
  ASSERT_TRUE(http.Send(get, &first).ok());
  EXPECT_EQ(first.sends, 1);
  // On the kept-alive connection, which the server closes unanswered: libcurl would send the
  // request again on a new connection; that is refused and the caller decides.
  Result<OutboundResponse> lost = http.Send(get, &second);
  ASSERT_FALSE(lost.ok());
  EXPECT_EQ(lost.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(lost.status().message().find("closed before an answer"), std::string::npos)
      << lost.status().ToString();
  EXPECT_EQ(second.sends, 1);
  EXPECT_EQ(second.failure, TransportFailure::kLost);
  EXPECT_EQ(server.arrivals(), 2) << "the server saw the second request twice";
  SendReport third;
  Result<OutboundResponse> retried = http.Send(get, &third);  // the caller's retry
  ASSERT_TRUE(retried.ok()) << retried.status().ToString();
  EXPECT_EQ(third.sends, 1);
  EXPECT_EQ(server.arrivals(), 3);
}

TEST(CurlOutboundHttp, AnUnbudgetedRequestKeepsLibcurlsResendAndCountsIt) {
  AnswerOncePerConnectionServer server;
  CurlOutboundHttp http;
  OutboundRequest get = Request("GET", server.url());  // sign-in's discovery and keys
  SendReport first, second;
  ASSERT_TRUE(http.Send(get, &first).ok());
  Result<OutboundResponse> again = http.Send(get, &second);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(second.sends, 2);
  EXPECT_EQ(server.arrivals(), 3);
}

TEST(CurlOutboundHttp, ARequestItsGateRefusesDoesNotLeave) {
  AnswerOncePerConnectionServer server;
  CurlOutboundHttp http;
  OutboundRequest get = Request("GET", server.url());
  get.may_send = [] { return false; };
  SendReport report;
  Result<OutboundResponse> refused = http.Send(get, &report);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(report.sends, 0);
  EXPECT_EQ(report.failure, TransportFailure::kNotSent);
  EXPECT_EQ(server.arrivals(), 0);
}

TEST(CurlOutboundHttp, ARequestThatMustNotRepeatGoesOnAFreshConnectionOnce) {
  AnswerOncePerConnectionServer server;
  CurlOutboundHttp http;
  ASSERT_TRUE(http.Send(Request("GET", server.url())).ok());
  OutboundRequest post = Request("POST", server.url(), "{}", /*idempotent=*/false);
  SendReport report;
  Result<OutboundResponse> answer = http.Send(post, &report);
  ASSERT_TRUE(answer.ok()) << answer.status().ToString();
  EXPECT_EQ(report.sends, 1);
  EXPECT_EQ(server.arrivals(), 2);
}

TEST(CurlOutboundHttp, NoConnectionIsReportedAsNotSent) {
  uint16_t closed_port;
  {
    asio::io_context io;
    tcp::acceptor probe(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    closed_port = probe.local_endpoint().port();
  }
  CurlOutboundHttp http;
  SendReport report;
  Result<OutboundResponse> answer =
      http.Send(Request("GET", "http://127.0.0.1:" + std::to_string(closed_port) + "/"), &report);
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(report.failure, TransportFailure::kNotSent);
  EXPECT_EQ(report.sends, 0);
}

}  // namespace
}  // namespace apm
