// ApiHandler in-process, on a real SQLite store: the answers that need states the HTTP tests
// cannot reach yet (the import engine comes later), above all the compatibility mapping.
#include "server/api_handler.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <filesystem>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>

#include "core/testing/hash_builder.h"
#include "server/store/sql_request_store.h"
#include "server/testing/temp_dir.h"

namespace apm {
namespace {

struct Answer {
  int status = 0;
  std::string body;
  std::string route;
};

class ApiHandlerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::move(SqlRequestStore::Open(dir_.File("apm.db"))).value();
    limiter_ = std::make_unique<RateLimiter>(clock_, 1000, 1000);
    intake_ = std::make_unique<IntakeService>(config_, *store_, clock_, *limiter_);
    watcher_ = std::make_unique<ChangeWatcher>(*store_, io_, std::chrono::milliseconds(50));
    handler_ = std::make_unique<ApiHandler>(config_, *store_, *intake_, *watcher_, metrics_, pool_,
                                            clock_);
  }
  void TearDown() override {
    pool_.join();
    handler_.reset();
    store_.reset();
  }

  Answer Call(http::verb method, const std::string& target, const std::string& body = "") {
    InboundRequest req;
    req.message.method(method);
    req.message.target(target);
    req.message.version(11);
    req.message.set(http::field::host, "apm.test");
    req.message.body() = body;
    req.message.prepare_payload();
    size_t q = target.find('?');
    req.path = target.substr(0, q);
    if (q != std::string::npos) req.query = target.substr(q + 1);
    req.client_address = "192.0.2.10";
    req.executor = io_.get_executor();
    auto promise = std::make_shared<std::promise<Answer>>();
    handler_->Handle(std::move(req), [promise](AnyResponse res, std::string_view route) {
      Answer a;
      a.route = std::string(route);
      if (auto* s = std::get_if<StringResponse>(&res)) {
        a.status = s->result_int();
        a.body = s->body();
      } else if (auto* f = std::get_if<FileResponse>(&res)) {
        a.status = f->result_int();
        a.body = "(file of " + std::to_string(f->body().size()) + " bytes)";
      }
      promise->set_value(a);
    });
    return promise->get_future().get();
  }

  // Submits through the compatibility route and forces the request into `state`.
  std::string CompatRequestIn(RequestState state, std::optional<RequestError> error = {}) {
    static int n = 0;
    char guid[37];
    std::snprintf(guid, sizeof guid, "00000000-0000-0000-0000-%012d", ++n);
    std::string serial = "COMPAT-" + std::to_string(n);
    nlohmann::json body = {
        {"SerialNumber", serial},
        {"Manufacturer", "LENOVO"},
        {"Model", "21R3001BUK"},
        {"HardwareHash", testing::HashText(testing::HashBuilder::Laptop(serial).Build())},
        {"Action", "IMPORT"}};
    Answer a = Call(http::verb::post, std::string("/api-autopilot/") + guid + "/save-information",
                    body.dump());
    EXPECT_EQ(a.status, 200) << a.body;
    if (state != RequestState::kPendingApproval) {
      RequestState from[] = {RequestState::kPendingApproval};
      EXPECT_TRUE(store_->Transition(guid, from, state, "step", error, clock_.NowMs()).ok());
    }
    return guid;
  }

  testing::ScopedTempDir dir_{"apm-handler-test"};
  Config config_;
  ManualClock clock_;
  Metrics metrics_;
  boost::asio::io_context io_;
  boost::asio::thread_pool pool_{2};
  std::unique_ptr<SqlRequestStore> store_;
  std::unique_ptr<RateLimiter> limiter_;
  std::unique_ptr<IntakeService> intake_;
  std::unique_ptr<ChangeWatcher> watcher_;
  std::unique_ptr<ApiHandler> handler_;
};

TEST_F(ApiHandlerTest, CompatibilityResultMapping) {
  auto result = [&](const std::string& guid) {
    return Call(http::verb::get, "/api-autopilot/" + guid + "/result");
  };
  Answer pending = result(CompatRequestIn(RequestState::kPendingApproval));
  EXPECT_EQ(pending.status, 201);
  EXPECT_EQ(pending.body, "\"ApprovalMode\"");
  for (RequestState running :
       {RequestState::kApproved, RequestState::kImporting, RequestState::kWaitingForSync,
        RequestState::kAddingToGroup, RequestState::kWaitingForProfile}) {
    EXPECT_EQ(result(CompatRequestIn(running)).status, 202) << RequestStateName(running);
  }
  EXPECT_EQ(result(CompatRequestIn(RequestState::kCompleted)).status, 204);
  Answer a806 = result(CompatRequestIn(
      RequestState::kFailed, RequestError{806, "ZtdDeviceAlreadyAssigned", "already registered"}));
  EXPECT_EQ(a806.status, 409);
  EXPECT_EQ(a806.body, "\"806: ZtdDeviceAlreadyAssigned\"");
  Answer a808 = result(
      CompatRequestIn(RequestState::kFailed,
                      RequestError{808, "ZtdDeviceAssignedToOtherTenant", "registered elsewhere"}));
  EXPECT_EQ(a808.status, 409);
  EXPECT_EQ(a808.body, "\"808: ZtdDeviceAssignedToOtherTenant\"");
  EXPECT_EQ(result(CompatRequestIn(RequestState::kFailed,
                                   RequestError{802, "InvalidZtdHardwareHash", "bad hash"}))
                .status,
            410);
  EXPECT_EQ(result(CompatRequestIn(RequestState::kRejected)).status, 410);
  EXPECT_EQ(result(CompatRequestIn(RequestState::kExpired)).status, 410);
  EXPECT_EQ(result(CompatRequestIn(RequestState::kNotAllowed)).status, 410);
}

TEST_F(ApiHandlerTest, FailedRequestCarriesItsErrorInV1) {
  nlohmann::json body = {
      {"serialNumber", "V1-FAIL"},
      {"manufacturer", "LENOVO"},
      {"model", "21R3001BUK"},
      {"hardwareHash", testing::HashText(testing::HashBuilder::Laptop("V1-FAIL").Build())}};
  Answer created = Call(http::verb::post, "/api/v1/requests", body.dump());
  ASSERT_EQ(created.status, 201) << created.body;
  std::string id = nlohmann::json::parse(created.body)["id"];
  RequestState from[] = {RequestState::kPendingApproval};
  ASSERT_TRUE(store_
                  ->Transition(id, from, RequestState::kFailed, "The import failed",
                               RequestError{806, "ZtdDeviceAlreadyAssigned",
                                            "This device is already registered in Autopilot"},
                               clock_.NowMs())
                  .ok());
  Answer got = Call(http::verb::get, "/api/v1/requests/" + id);
  ASSERT_EQ(got.status, 200);
  nlohmann::json j = nlohmann::json::parse(got.body);
  EXPECT_EQ(j["state"], "failed");
  EXPECT_EQ(j["terminal"], true);
  EXPECT_EQ(j["error"]["code"], 806);
  EXPECT_EQ(j["error"]["name"], "ZtdDeviceAlreadyAssigned");
  EXPECT_TRUE(j["finishedAt"].is_string());
  EXPECT_EQ(got.route, "/api/v1/requests/{id}");
  // A terminal request is answered at once even when asked to wait.
  Answer waited = Call(http::verb::get, "/api/v1/requests/" + id + "?wait=30");
  EXPECT_EQ(waited.status, 200);
}

TEST_F(ApiHandlerTest, HashWithNonUtf8StringsIsHandled) {
  // Real firmware writes Latin-1 into SMBIOS strings; a made-up hash can hold any bytes.
  testing::HashBuilder b = testing::HashBuilder::Laptop("LATIN-1");
  b.Str(kRecSku,
        "Mod\xe8"
        "le sp\xe9"
        "cial");
  nlohmann::json body = {{"serialNumber", "LATIN-1"},
                         {"manufacturer", "LENOVO"},
                         {"model", "21R3001BUK"},
                         {"hardwareHash", testing::HashText(b.Build())}};
  Answer ok = Call(http::verb::post, "/api/v1/requests", body.dump());
  EXPECT_EQ(ok.status, 201) << ok.body;

  testing::HashBuilder bad;
  bad.Str(kRecSerial, "\xff\xfe").Str(kRecManufacturer, "LENOVO");
  body["serialNumber"] = "OTHER";
  body["hardwareHash"] = testing::HashText(bad.Build());
  Answer refused = Call(http::verb::post, "/api/v1/requests", body.dump());
  EXPECT_EQ(refused.status, 403);
  EXPECT_FALSE(nlohmann::json::parse(refused.body, nullptr, false).is_discarded());
}

// /ap.exe serves the file start-up prepared (the signed copy), not the configured original.
TEST_F(ApiHandlerTest, TheWindowsClientServedIsThePreparedOne) {
  std::ofstream(dir_.File("original.exe"), std::ios::binary) << "MZ original";
  std::ofstream(dir_.File("signed.exe"), std::ios::binary) << "MZ signed, longer";
  config_.ClientWindowsBinary = dir_.File("original.exe");
  handler_ =
      std::make_unique<ApiHandler>(config_, *store_, *intake_, *watcher_, metrics_, pool_, clock_,
                                   ServedClient{dir_.File("signed.exe"), "ab12", true});
  Answer exe = Call(http::verb::get, "/ap.exe");
  EXPECT_EQ(exe.status, 200);
  EXPECT_EQ(exe.body, "(file of 17 bytes)");
  Answer home = Call(http::verb::get, "/");
  EXPECT_NE(home.body.find("SHA-256: <code>ab12</code> (Authenticode-signed)"), std::string::npos);

  // Configured but not there at start-up: 404 saying so, not "not set".
  handler_ = std::make_unique<ApiHandler>(config_, *store_, *intake_, *watcher_, metrics_, pool_,
                                          clock_, ServedClient{});
  Answer missing = Call(http::verb::get, "/ap.exe");
  EXPECT_EQ(missing.status, 404);
  EXPECT_NE(missing.body.find("ClientWindowsBinary is not readable"), std::string::npos);
  config_.ClientWindowsBinary = "";
  EXPECT_NE(Call(http::verb::get, "/ap.exe").body.find("ClientWindowsBinary is not set"),
            std::string::npos);
}

// How long the oldest request waiting for approval has waited, for the alert rule.
TEST_F(ApiHandlerTest, MetricsTellHowLongTheOldestApprovalHasWaited) {
  EXPECT_NE(
      Call(http::verb::get, "/metrics").body.find("\napm_oldest_pending_approval_seconds 0\n"),
      std::string::npos);
  CompatRequestIn(RequestState::kPendingApproval);
  clock_.Advance(std::chrono::seconds(100));
  CompatRequestIn(RequestState::kPendingApproval);  // newer: not the one that counts
  clock_.Advance(std::chrono::seconds(25));
  std::string metrics = Call(http::verb::get, "/metrics").body;
  EXPECT_NE(metrics.find("\napm_oldest_pending_approval_seconds 125\n"), std::string::npos)
      << metrics;
}

}  // namespace
}  // namespace apm
