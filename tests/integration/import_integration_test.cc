// The import engine end to end: the real apm-server against the real apm-tenant-sim over HTTP,
// devices submitted through the client API and approved with the admin command.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "import_fixture.h"
#include "server_process.h"

namespace apm::itest {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;

TEST_F(ImportTest, ApprovedDeviceIsImportedStepByStepAndTheClientSeesEveryStep) {
  StartSim();
  StartServer();
  ASSERT_TRUE(server_->WaitForLog("import engine started")) << server_->log();
  EXPECT_THAT(server_->log(), ::testing::Not(HasSubstr("simulator-secret")));
  std::string id = Submit("PF3E2E01");
  Approve(id);
  json last;
  std::vector<std::string> steps = Follow(id, &last);
  ASSERT_EQ(last["state"], "completed") << last.dump() << "\n" << server_->log();
  EXPECT_THAT(steps, ::testing::IsSupersetOf({"importing", "waiting_for_sync", "adding_to_group",
                                              "waiting_for_profile", "completed"}));
  json stats = SimStats();
  EXPECT_EQ(stats["importsBySerial"]["PF3E2E01"], 1) << stats.dump();
  json devices = Body(Http("GET", sim_->url() + "/_sim/devices"));
  ASSERT_TRUE(devices.is_object()) << devices.dump();
  EXPECT_THAT(devices.dump(), HasSubstr("\"groupTag\":\"Kiosk\""));
  std::string metrics = Http("GET", server_->url() + "/metrics").body;
  EXPECT_NE(metrics.find("\napm_graph_token_requests_total 1\n"), std::string::npos);
  EXPECT_NE(metrics.find("\napm_import_jobs_active 0\n"), std::string::npos);
  EXPECT_NE(metrics.find("\napm_graph_http_requests_total "), std::string::npos);
}

// ASVS 7.1.1: a whole import, with the access log, logs neither the client secret, nor the
// access token's use, nor any part of the hash longer than a fingerprint. At the most talkative
// level, so a debug line added later is covered too.
TEST_F(ImportTest, TheLogHoldsNoSecretNoTokenAndNoHash) {
  StartSim();
  StartServer("LogLevel = \"trace\"\nAccessLog = true\nClientSecret = \"simulator-secret\"\n");
  std::string hash = LaptopHash("PF3LOG01");
  std::string id = Submit("PF3LOG01", hash);
  Approve(id);
  json last;
  Follow(id, &last);
  ASSERT_EQ(last["state"], "completed") << last.dump();
  ASSERT_EQ(server_->Stop(SIGTERM), 0);  // every line flushed (info lines go out once a second)
  std::string log = server_->log();
  EXPECT_THAT(log, HasSubstr("PF3LOG01")) << "the log is the one that saw the import";
  EXPECT_THAT(log, ::testing::Not(HasSubstr("simulator-secret")));
  EXPECT_THAT(log, ::testing::Not(HasSubstr("Bearer ")));
  // Any logged stretch of 64 characters of the hash would hold one of these aligned pieces.
  for (size_t at = 0; at + 32 <= hash.size(); at += 32) {
    ASSERT_THAT(log, ::testing::Not(HasSubstr(hash.substr(at, 32)))) << "hash piece at " << at;
  }
}

TEST_F(ImportTest, EachDdsErrorEndsTheRequestWithItsCode) {
  StartSim({"--registered-serial=PF3E2E806", "--other-tenant-serial=PF3E2E808"});
  StartServer();
  std::string a = Submit("PF3E2E806");
  std::string b = Submit("PF3E2E808");
  // Base64, but not a hardware hash: accepted as unverifiable, refused by Autopilot.
  std::string c = Submit("PF3E2E802", "T0EAAAAAAAAAAAAA");
  for (const auto& id : {a, b, c}) Approve(id);
  std::map<std::string, int> expected = {{a, 806}, {b, 808}, {c, 802}};
  for (const auto& [id, code] : expected) {
    json last;
    Follow(id, &last);
    ASSERT_EQ(last["state"], "failed") << last.dump();
    EXPECT_EQ(last["error"]["code"], code) << last.dump();
    EXPECT_FALSE(last["error"]["message"].get<std::string>().empty());
  }
  json stats = SimStats();
  EXPECT_EQ(stats["importsBySerial"]["PF3E2E806"], 1);
}

TEST_F(ImportTest, InjectedFaultsStillImportEveryDeviceExactlyOnce) {
  StartSim({"--error-rate=0.1", "--lost-response-rate=0.05", "--drop-rate=0.05", "--seed=11"});
  StartServer();
  std::vector<std::string> ids;
  for (int i = 0; i < 40; ++i) ids.push_back(Submit("PF3FLT" + std::to_string(100 + i)));
  for (const auto& id : ids) Approve(id);
  auto final_state = WaitAll(ids, std::chrono::seconds(120));
  ASSERT_EQ(final_state.size(), ids.size()) << server_->log();
  for (const auto& [id, state] : final_state) EXPECT_EQ(state, "completed") << id << Problems();
  json stats = SimStats();
  EXPECT_GT(stats["faults"]["status500"].get<int>() + stats["faults"]["status503"].get<int>(), 0)
      << stats.dump();
  EXPECT_GT(stats["faults"]["lostResponses"].get<int>(), 0) << stats.dump();
  for (int i = 0; i < 40; ++i) {
    EXPECT_EQ(stats["importsBySerial"]["PF3FLT" + std::to_string(100 + i)], 1) << i;
  }
}

TEST_F(ImportTest, KilledServerResumesEveryJobAndImportsEachDeviceOnce) {
  StartSim({"--lost-response-rate=0.02", "--seed=5"});
  StartServer();
  std::vector<std::string> ids;
  for (int i = 0; i < 100; ++i) ids.push_back(Submit("PF3K" + std::to_string(1000 + i)));
  for (const auto& id : ids) Approve(id);
  std::mt19937 rng(42);
  for (int round = 0; round < 3; ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500 + rng() % 1500));
    server_->Kill9();
    ASSERT_TRUE(server_->Start()) << server_->log();
  }
  // A graceful stop does not wait for the Graph budget or calls in flight.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  auto stop_started = std::chrono::steady_clock::now();
  EXPECT_EQ(server_->Stop(SIGTERM), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - stop_started, std::chrono::seconds(5));
  ASSERT_TRUE(server_->Start()) << server_->log();
  auto final_state = WaitAll(ids, std::chrono::seconds(180));
  ASSERT_EQ(final_state.size(), ids.size());
  for (const auto& [id, state] : final_state) EXPECT_EQ(state, "completed") << id << Problems();
  json stats = SimStats();
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(stats["importsBySerial"]["PF3K" + std::to_string(1000 + i)], 1) << i;
  }
}

TEST_F(ImportTest, ABurstOf200DevicesAtTheDocumentedLimitsIsNeverThrottled) {
  StartSim();  // Intune's documented limits: 100 writes and 1000 requests per 20 s per app
  StartServer();
  std::vector<std::string> ids;
  for (int i = 0; i < 200; ++i) ids.push_back(Submit("PF3BRST" + std::to_string(1000 + i)));
  for (const auto& id : ids) Approve(id);
  auto final_state = WaitAll(ids, std::chrono::seconds(240));
  ASSERT_EQ(final_state.size(), ids.size());
  for (const auto& [id, state] : final_state) EXPECT_EQ(state, "completed") << id << Problems();
  json stats = SimStats();
  EXPECT_EQ(stats["throttled"], 0) << stats["requests"].dump() << Problems();
}

TEST_F(ImportTest, ACertificateCredentialImportsToo) {
  std::string dir = ::testing::TempDir() + "apm-cert-" + std::to_string(getpid());
  std::filesystem::create_directories(dir);
  std::string cmd =
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=apm-server "
      "-keyout " +
      dir + "/key.pem -out " + dir + "/cert.pem >/dev/null 2>&1";
  ASSERT_EQ(system(cmd.c_str()), 0);
  StartSim({"--client-certificate=" + dir + "/cert.pem"});
  StartServer("ClientCertificateFile = \"" + dir + "/cert.pem\"\nClientPrivateKeyFile = \"" + dir +
              "/key.pem\"\n");
  ASSERT_TRUE(server_->WaitForLog("auth=certificate")) << server_->log();
  std::string id = Submit("PF3CERT01");
  Approve(id);
  json last;
  Follow(id, &last);
  EXPECT_EQ(last["state"], "completed") << last.dump() << Problems();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace apm::itest

namespace apm::itest {
namespace {

// `request import-csv`: the good rows of a reseller's file become requests, the bad ones are
// listed with their line and reason; approving them imports every device. (The 600-row file
// goes through the upload page: WebTest.AnApproverUploadsA600RowFileAndApprovesItTogether.)
TEST_F(ImportTest, AnUploadFromTheCommandLineImportsItsGoodRows) {
  StartSim();
  StartServer();
  std::string path = ::testing::TempDir() + "apm-bulk.csv";
  std::ofstream(path, std::ios::binary) << ResellerCsv("PF5BULK", 60);
  std::string out;
  ASSERT_EQ(server_->RunCommand({"request", "import-csv", path}, &out), 3) << out;
  json result = json::parse(out.substr(out.find('{')), nullptr, false);
  ASSERT_TRUE(result.is_object()) << out;
  EXPECT_EQ(result["rows"], 61);
  EXPECT_EQ(result["created"], 57);
  ASSERT_EQ(result["refused"].size(), 4u) << result["refused"].dump();
  std::vector<int> lines;
  for (const json& r : result["refused"]) lines.push_back(r["line"]);
  EXPECT_EQ(lines, (std::vector<int>{19, 32, 43, 62}));
  EXPECT_THAT(result["refused"].dump(), HasSubstr("the Hardware Hash cannot be read"));
  EXPECT_THAT(result["refused"].dump(), HasSubstr("PF5BULKOTHER1"));
  EXPECT_THAT(result["refused"].dump(), HasSubstr("no Device Serial Number"));
  EXPECT_THAT(result["refused"].dump(), HasSubstr("3 columns where the header has 4"));

  std::vector<std::string> ids = result["requests"];
  std::vector<std::string> approve = {"request", "approve"};
  approve.insert(approve.end(), ids.begin(), ids.end());
  ASSERT_EQ(server_->RunCommand(approve, &out), 0) << out.substr(0, 2000);
  auto final_state = WaitAll(ids, std::chrono::seconds(120));
  ASSERT_EQ(final_state.size(), ids.size()) << Problems();
  for (const auto& [id, state] : final_state) EXPECT_EQ(state, "completed") << id;
  json stats = SimStats();
  EXPECT_EQ(stats["throttled"], 0) << stats.dump();
  json devices = Body(Http("GET", sim_->url() + "/_sim/devices"));
  EXPECT_THAT(devices.dump(), HasSubstr("\"groupTag\":\"Kiosk\""));
}

}  // namespace
}  // namespace apm::itest
