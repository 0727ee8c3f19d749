#include "tenantsim/sim_handler.h"

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <nlohmann/json.hpp>

#include "core/testing/hash_builder.h"
#include "server/http/http_server.h"

namespace apm::sim {
namespace {

using json = nlohmann::json;

class SimHandlerTest : public ::testing::Test {
 protected:
  SimHandlerTest() : identity_(clock_, "tid-1", "contoso.example"), handler_(identity_, clock_) {
    identity_.AddApp({"app-1", "s3cret", {"DeviceManagementServiceConfig.ReadWrite.All"}, ""});
  }

  std::pair<int, json> Post(const std::string& path, const std::string& form) {
    InboundRequest req;
    req.message.method(http::verb::post);
    req.message.target(path);
    req.message.version(11);
    req.message.body() = form;
    req.path = path;
    std::pair<int, json> out;
    handler_.Handle(std::move(req), [&](AnyResponse res, std::string_view) {
      auto& r = std::get<StringResponse>(res);
      out = {r.result_int(), json::parse(r.body(), nullptr, false)};
    });
    return out;
  }

  static std::string Form(const std::string& secret,
                          const std::string& scope = "https%3A%2F%2Fgraph.microsoft.com%2F.default",
                          const std::string& grant = "client_credentials") {
    return "client_id=app-1&scope=" + scope + "&client_secret=" + secret + "&grant_type=" + grant;
  }

  ManualClock clock_;
  Identity identity_;
  SimHandler handler_;
};

TEST_F(SimHandlerTest, IssuesTokensForClientCredentials) {
  auto [status, body] = Post("/tid-1/oauth2/v2.0/token", Form("s3cret"));
  ASSERT_EQ(status, 200) << body;
  EXPECT_EQ(body["token_type"], "Bearer");
  EXPECT_EQ(body["expires_in"], 3599);
  std::string token = body["access_token"];
  std::optional<SimApp> app = identity_.Authenticate(token);
  ASSERT_TRUE(app.has_value());
  EXPECT_EQ(app->client_id, "app-1");
  // The domain names the tenant too.
  EXPECT_EQ(Post("/contoso.example/oauth2/v2.0/token", Form("s3cret")).first, 200);
  // Tokens expire.
  clock_.Advance(std::chrono::seconds(3600));
  EXPECT_FALSE(identity_.Authenticate(token).has_value());
  EXPECT_FALSE(identity_.Authenticate("made-up").has_value());
}

TEST_F(SimHandlerTest, AnswersEntraErrors) {
  auto [s1, wrong_secret] = Post("/tid-1/oauth2/v2.0/token", Form("nope"));
  EXPECT_EQ(s1, 401);
  EXPECT_EQ(wrong_secret["error"], "invalid_client");
  EXPECT_EQ(wrong_secret["error_codes"][0], 7000215);
  EXPECT_TRUE(wrong_secret["trace_id"].is_string());

  auto [s2, bad_scope] = Post("/tid-1/oauth2/v2.0/token", Form("s3cret", "User.Read"));
  EXPECT_EQ(s2, 400);
  EXPECT_EQ(bad_scope["error"], "invalid_scope");
  EXPECT_EQ(bad_scope["error_codes"][0], 70011);

  auto [s3, bad_grant] =
      Post("/tid-1/oauth2/v2.0/token",
           Form("s3cret", "https%3A%2F%2Fgraph.microsoft.com%2F.default", "password"));
  EXPECT_EQ(s3, 400);
  EXPECT_EQ(bad_grant["error"], "unsupported_grant_type");

  auto [s4, no_tenant] = Post("/other/oauth2/v2.0/token", Form("s3cret"));
  EXPECT_EQ(s4, 400);
  EXPECT_EQ(no_tenant["error_codes"][0], 90002);

  auto [s5, unknown_app] =
      Post("/tid-1/oauth2/v2.0/token",
           "client_id=app-9&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default&client_secret=x"
           "&grant_type=client_credentials");
  EXPECT_EQ(s5, 400);
  EXPECT_EQ(unknown_app["error_codes"][0], 700016);

  EXPECT_EQ(Post("/tid-1/oauth2/v2.0/token", "a=%zz").first, 400);
}

// Over real HTTP: the server honours X-Apm-Drop-Connection, and slow answers wait on a timer.
class SimServerTest : public ::testing::Test {
 protected:
  SimServerTest() : identity_(clock_, "tid-1", "contoso.example"), model_(clock_, Config()) {
    identity_.AddApp({"app-1", "s", {"DeviceManagementServiceConfig.ReadWrite.All"}, ""});
    token_ = identity_.IssueToken("app-1")->access_token;
    HttpServerOptions o;
    o.listen = "127.0.0.1:0";
    o.threads = 1;
    o.access_log = false;
    server_ = std::make_unique<HttpServer>(o, handler_, nullptr);
    EXPECT_TRUE(server_->Start().ok());
  }
  ~SimServerTest() override { server_->Shutdown(); }

  static SimConfig Config() {
    SimConfig c;
    c.admin_enabled = true;
    return c;
  }

  // The status, or -1 when the connection ended without an answer.
  int Send(http::verb method, const std::string& target, const std::string& body = "") {
    namespace asio = boost::asio;
    asio::io_context io;
    asio::ip::tcp::socket socket(io);
    socket.connect({asio::ip::make_address("127.0.0.1"), server_->port()});
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::authorization, "Bearer " + token_);
    if (!body.empty()) req.set(http::field::content_type, "application/json");
    req.body() = body;
    req.prepare_payload();
    http::write(socket, req);
    boost::beast::flat_buffer buffer;
    http::response<http::string_body> res;
    boost::system::error_code ec;
    http::read(socket, buffer, res, ec);
    return ec ? -1 : res.result_int();
  }

  SystemClock clock_;
  Identity identity_;
  GraphModel model_;
  SimHandler handler_{identity_, model_, clock_};
  std::unique_ptr<HttpServer> server_;
  std::string token_;
};

TEST_F(SimServerTest, LostAnswersDropTheConnectionAfterTheEffect) {
  const std::string imports = "/beta/deviceManagement/importedWindowsAutopilotDeviceIdentities";
  std::string hash = apm::testing::HashText(apm::testing::HashBuilder::Laptop("NET1").Build());
  json body = {{"serialNumber", "NET1"}, {"hardwareIdentifier", hash}};
  EXPECT_EQ(Send(http::verb::get, imports), 200);
  SimConfig c = model_.config();
  c.lost_response_rate = 1;
  model_.SetConfig(c);
  EXPECT_EQ(Send(http::verb::post, imports, body.dump()), -1);
  EXPECT_EQ(model_.ImportCount("NET1"), 1);
  c.lost_response_rate = 0;
  c.drop_rate = 1;
  model_.SetConfig(c);
  EXPECT_EQ(Send(http::verb::post, imports, body.dump()), -1);
  EXPECT_EQ(model_.ImportCount("NET1"), 1);
  SimStats s = model_.Stats();
  EXPECT_EQ(s.lost, 1);
  EXPECT_EQ(s.dropped, 1);
}

TEST_F(SimServerTest, SlowAnswersArriveLater) {
  SimConfig c = model_.config();
  c.slow_rate = 1;
  c.slow_ms = 300;
  model_.SetConfig(c);
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(
      Send(http::verb::get, "/v1.0/deviceManagement/importedWindowsAutopilotDeviceIdentities"),
      200);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(300));
  EXPECT_EQ(model_.Stats().slow, 1);
}

}  // namespace
}  // namespace apm::sim
