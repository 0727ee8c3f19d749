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

#include "core/diagnostics_bundle.h"
#include "core/testing/hash_builder.h"
#include "core/zip_writer.h"
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
    handler_ = std::make_unique<ApiHandler>(config_, *store_, *store_, *store_, *intake_, *watcher_,
                                            metrics_, pool_, clock_);
  }
  void TearDown() override {
    pool_.join();
    handler_.reset();
    store_.reset();
  }

  Answer Call(http::verb method, const std::string& target, const std::string& body = "",
              const std::string& content_type = "") {
    InboundRequest req;
    req.message.method(method);
    req.message.target(target);
    req.message.version(11);
    req.message.set(http::field::host, "apm.test");
    if (!content_type.empty()) req.message.set(http::field::content_type, content_type);
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

  // Submits a laptop through the v1 route; its request id ("" when it was not created).
  std::string SubmitV1(const std::string& serial, const std::string& hash) {
    nlohmann::json body = {{"serialNumber", serial},
                           {"manufacturer", "LENOVO"},
                           {"model", "21R3001BUK"},
                           {"hardwareHash", hash}};
    Answer created = Call(http::verb::post, "/api/v1/requests", body.dump());
    EXPECT_EQ(created.status, 201) << created.body;
    return created.status == 201 ? nlohmann::json::parse(created.body).value("id", "") : "";
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

// A device's diagnostics bundle: kept with its request and audited; refused, with nothing kept,
// when it is not what ap sends or holds any part of the request's hardware hash.
TEST_F(ApiHandlerTest, DiagnosticsBundlesAreKeptWithTheirRequestUnlessTheyHoldTheHash) {
  const std::string hash = testing::HashText(testing::HashBuilder::Laptop("DIAG-1").Build());
  const std::string id = SubmitV1("DIAG-1", hash);
  ASSERT_FALSE(id.empty());
  const std::string target =
      "/api/v1/requests/" + id + "/diagnostics?name=ap-diagnostics-DIAG-1-20261130-153012.zip";
  const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1796000000));
  const std::string zip = *ZipStored({{"summary.txt", "serial DIAG-1\n"}}, now);
  // Ten seconds apart: one address may send six a minute (the rate limit is tested below).
  auto upload = [&](const std::string& to, const std::string& bytes,
                    const std::string& type = "application/zip") {
    clock_.Advance(std::chrono::seconds(10));
    return Call(http::verb::post, to, bytes, type);
  };
  auto error_code = [](const Answer& a) {
    nlohmann::json j = nlohmann::json::parse(a.body, nullptr, false);
    return j.is_object() && j.contains("error") ? j["error"].value("code", "") : "";
  };

  Answer kept = upload(target, zip);
  ASSERT_EQ(kept.status, 201) << kept.body;
  EXPECT_EQ(kept.route, "/api/v1/requests/{id}/diagnostics");
  nlohmann::json k = nlohmann::json::parse(kept.body)["diagnostics"];
  EXPECT_EQ(k["number"], 1);
  EXPECT_EQ(k["fileName"], "ap-diagnostics-DIAG-1-20261130-153012.zip");
  EXPECT_EQ(k["sizeBytes"], zip.size());
  Result<DiagnosticsBundle> stored = store_->GetDiagnostics(id, 1);
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  EXPECT_EQ(stored->bytes, zip);
  EXPECT_EQ(stored->address, "192.0.2.10");
  AuditFilter uploads;
  uploads.action = "diagnostics_upload";
  Result<std::vector<AuditEvent>> audited = store_->ListAudit(uploads);
  ASSERT_TRUE(audited.ok());
  ASSERT_EQ(audited->size(), 1u);
  EXPECT_EQ((*audited)[0].request_id, id);
  EXPECT_EQ((*audited)[0].actor_upn, "device");

  // Each refusal names what was wrong, and keeps nothing.
  EXPECT_EQ(upload(target, zip, "application/octet-stream").status, 415);
  Answer unnamed = upload("/api/v1/requests/" + id + "/diagnostics?name=../x.zip", zip);
  EXPECT_EQ(unnamed.status, 400);
  EXPECT_NE(unnamed.body.find("\"field\":\"name\""), std::string::npos) << unnamed.body;
  Answer not_zip = upload(target, "%PDF-1.7 not a zip");
  EXPECT_EQ(not_zip.status, 400);
  EXPECT_EQ(error_code(not_zip), "not_a_zip");
  std::string bent = zip;
  bent[45] ^= 1;  // a byte of summary.txt: its CRC no longer matches
  EXPECT_EQ(error_code(upload(target, bent)), "not_a_zip");
  // Only the files ap puts in a bundle: nothing else reaches the helpdesk as "from the device".
  Answer foreign = upload(target, *ZipStored({{"invoice.pdf.lnk", "x"}}, now));
  EXPECT_EQ(error_code(foreign), "not_a_zip");
  EXPECT_NE(foreign.body.find("invoice.pdf.lnk"), std::string::npos) << foreign.body;
  EXPECT_EQ(upload("/api/v1/requests/AAAAAAAAAAAAAAAAAAAAAAAA/diagnostics?name=a.zip", zip).status,
            404);
  Answer too_large = upload(target, std::string(kMaxDiagnosticsBytes + 1, 'P'));
  EXPECT_EQ(too_large.status, 413);
  // Sixteen characters of the hash (not of its zero padding) anywhere in the bundle: refused
  // whole, and audited.
  const std::string leaky =
      *ZipStored({{"ap.log", "submitted hash " + hash.substr(40, 16) + "\n"}}, now);
  Answer holds = upload(target, leaky);
  EXPECT_EQ(holds.status, 422);
  EXPECT_EQ(error_code(holds), "holds_hardware_hash");
  uploads.action = "diagnostics_refused";
  EXPECT_EQ(store_->ListAudit(uploads)->size(), 1u);
  EXPECT_EQ(store_->ListDiagnostics(id)->size(), 1u);

  // At most kMaxDiagnosticsPerRequest per request.
  for (int n = 2; n <= kMaxDiagnosticsPerRequest; ++n) ASSERT_EQ(upload(target, zip).status, 201);
  Answer sixth = upload(target, zip);
  EXPECT_EQ(sixth.status, 409);
  EXPECT_EQ(error_code(sixth), "too_many_diagnostics");
  EXPECT_EQ(store_->ListDiagnostics(id)->size(), size_t(kMaxDiagnosticsPerRequest));
}

// A request that ended days ago takes no more bundles; one address sends a few a minute.
TEST_F(ApiHandlerTest, DiagnosticsComeSoonAfterTheRequestAndAFewAtATime) {
  const std::string hash = testing::HashText(testing::HashBuilder::Laptop("DIAG-2").Build());
  const std::string id = SubmitV1("DIAG-2", hash);
  ASSERT_FALSE(id.empty());
  const std::string target = "/api/v1/requests/" + id + "/diagnostics?name=a.zip";
  const std::string zip =
      *ZipStored({{"summary.txt", "DIAG-2\n"}}, std::chrono::system_clock::now());
  // Ten at once are taken (five kept, five over the request's limit); the eleventh waits.
  for (int n = 1; n <= 10; ++n) {
    EXPECT_NE(Call(http::verb::post, target, zip, "application/zip").status, 429) << n;
  }
  Answer limited = Call(http::verb::post, target, zip, "application/zip");
  EXPECT_EQ(limited.status, 429);
  EXPECT_NE(limited.body.find("rate_limited"), std::string::npos);

  RequestState from[] = {RequestState::kPendingApproval};
  ASSERT_TRUE(store_
                  ->Transition(id, from, RequestState::kFailed, "The import failed", std::nullopt,
                               clock_.NowMs())
                  .ok());
  clock_.Advance(std::chrono::hours(72) + std::chrono::seconds(1));
  Answer late = Call(http::verb::post, target, zip, "application/zip");
  EXPECT_EQ(late.status, 410) << late.body;
  EXPECT_NE(late.body.find("request_finished"), std::string::npos);
}

// /ap.exe serves the file start-up prepared (the signed copy), not the configured original.
TEST_F(ApiHandlerTest, TheWindowsClientServedIsThePreparedOne) {
  std::ofstream(dir_.File("original.exe"), std::ios::binary) << "MZ original";
  std::ofstream(dir_.File("signed.exe"), std::ios::binary) << "MZ signed, longer";
  config_.ClientWindowsBinary = dir_.File("original.exe");
  handler_ = std::make_unique<ApiHandler>(config_, *store_, *store_, *store_, *intake_, *watcher_,
                                          metrics_, pool_, clock_,
                                          ServedClient{dir_.File("signed.exe"), "ab12", true});
  Answer exe = Call(http::verb::get, "/ap.exe");
  EXPECT_EQ(exe.status, 200);
  EXPECT_EQ(exe.body, "(file of 17 bytes)");
  Answer home = Call(http::verb::get, "/");
  EXPECT_NE(home.body.find("SHA-256: <code>ab12</code> (Authenticode-signed)"), std::string::npos);

  // Configured but not there at start-up: 404 saying so, not "not set".
  handler_ = std::make_unique<ApiHandler>(config_, *store_, *store_, *store_, *intake_, *watcher_,
                                          metrics_, pool_, clock_, ServedClient{});
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
