// The real apm-server under storage faults: a full disk, a failing fsync (the fault VFS
// preloaded, driven through a control file) and a damaged database file at start-up.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "server/store/testing/damaged_file.h"
#include "server_process.h"

namespace apm::itest {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;

const std::vector<std::string> kJson = {"Content-Type: application/json"};

HttpResult Submit(const ServerProcess& s, const std::string& serial) {
  return Http("POST", s.url() + "/api/v1/requests", SubmitBody(serial), kJson);
}

std::string IdOf(const HttpResult& r) {
  return json::parse(r.body, nullptr, false).value("id", "");
}

class StorageFaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    control_ = std::filesystem::temp_directory_path() /
               ("apm-fault-" + std::to_string(getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
    SetFault("");
    // A sanitizer build would object that its runtime is not first in the preload order.
    std::string asan = std::getenv("ASAN_OPTIONS") ? std::getenv("ASAN_OPTIONS") : "";
    server_ = std::make_unique<ServerProcess>(
        "", std::map<std::string, std::string>{
                {"LD_PRELOAD", APM_FAULT_VFS},
                {"FAULT_VFS_CONTROL", control_.string()},
                {"ASAN_OPTIONS", asan + (asan.empty() ? "" : ":") + "verify_asan_link_order=0"}});
    ASSERT_TRUE(server_->Start()) << server_->log();
  }
  void TearDown() override { std::filesystem::remove(control_); }
  void SetFault(const std::string& word) { std::ofstream(control_) << word; }
  long StatusOf(const std::string& id) {
    return Http("GET", server_->url() + "/api/v1/requests/" + id).status;
  }

  std::filesystem::path control_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(StorageFaultTest, AFullDiskIs503AndTheServerRecoversByItselfLosingNothing) {
  std::vector<std::string> acknowledged;
  for (const char* serial : {"FULL-1", "FULL-2", "FULL-3"}) {
    HttpResult r = Submit(*server_, serial);
    ASSERT_EQ(r.status, 201) << r.body;
    acknowledged.push_back(IdOf(r));
  }
  SetFault("full");
  for (const char* serial : {"FULL-4", "FULL-5"}) {
    HttpResult refused = Submit(*server_, serial);
    EXPECT_EQ(refused.status, 503) << refused.body;
    EXPECT_FALSE(refused.Header("retry-after").empty());
  }
  for (const std::string& id : acknowledged) EXPECT_EQ(StatusOf(id), 200) << id;
  EXPECT_EQ(Http("GET", server_->url() + "/healthz").status, 200);

  SetFault("");  // space is back; nobody restarts anything
  HttpResult again = Submit(*server_, "FULL-4");
  ASSERT_EQ(again.status, 201) << again.body;
  acknowledged.push_back(IdOf(again));
  EXPECT_EQ(Http("GET", server_->url() + "/readyz").status, 200);

  server_->Kill9();
  ASSERT_TRUE(server_->Start()) << server_->log();
  for (const std::string& id : acknowledged) EXPECT_EQ(StatusOf(id), 200) << id;
  std::string out;
  EXPECT_EQ(server_->RunCommand({"db", "check"}, &out), 0) << out;
  EXPECT_THAT(out, HasSubstr(": ok"));
}

TEST_F(StorageFaultTest, AFailedFsyncIsNeverAcknowledgedAndNoLaterWriteIsEither) {
  HttpResult first = Submit(*server_, "SYNC-1");
  ASSERT_EQ(first.status, 201) << first.body;

  SetFault("fsync");
  HttpResult failed = Submit(*server_, "SYNC-2");
  EXPECT_EQ(failed.status, 503) << failed.body;
  SetFault("");
  HttpResult after = Submit(*server_, "SYNC-3");
  EXPECT_EQ(after.status, 503) << "a write after a failed fsync was acknowledged: " << after.body;
  EXPECT_FALSE(after.Header("retry-after").empty());
  EXPECT_EQ(Http("GET", server_->url() + "/readyz").status, 503);
  EXPECT_EQ(StatusOf(IdOf(first)), 200) << "reads still serve";
  EXPECT_TRUE(server_->WaitForLog("until apm-server restarts")) << server_->log();

  EXPECT_EQ(server_->Stop(SIGTERM), 0) << server_->log();
  ASSERT_TRUE(server_->Start()) << server_->log();
  EXPECT_EQ(StatusOf(IdOf(first)), 200);
  EXPECT_EQ(Submit(*server_, "SYNC-3").status, 201);
  EXPECT_EQ(Http("GET", server_->url() + "/readyz").status, 200);
}

TEST(StorageDamageTest, ADamagedDatabaseIsRefusedAtStartWithTheWayOut) {
  ServerProcess server;
  ASSERT_TRUE(server.Start()) << server.log();
  ASSERT_EQ(Submit(server, "DAMAGED-1").status, 201);
  ASSERT_EQ(server.Stop(SIGTERM), 0);  // checkpointed: everything is in apm.db
  std::string db = server.data_dir() + "/apm.db";
  ASSERT_TRUE(apm::testing::DamageRequestsTable(db));

  EXPECT_FALSE(server.Start());
  EXPECT_THAT(server.log(), HasSubstr("failed its integrity check"));
  EXPECT_THAT(server.log(), HasSubstr("apm-server db check"));
  EXPECT_THAT(server.log(), HasSubstr("Backup and restore"));
  std::string out;
  EXPECT_EQ(server.RunCommand({"db", "check"}, &out), 1) << out;
  EXPECT_THAT(out, HasSubstr("problem"));
  EXPECT_THAT(out, HasSubstr("Restore the latest backup"));
}

}  // namespace
}  // namespace apm::itest
