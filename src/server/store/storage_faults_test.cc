// The store under storage faults (a full disk, a failing fsync) and on a damaged file; the
// faults come from a VFS shim (store/testing/fault_vfs.h), no root and no special file system.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "server/clock.h"
#include "server/store/sql_request_store.h"
#include "server/store/sqlite_integrity.h"
#include "server/store/testing/damaged_file.h"
#include "server/store/testing/fault_vfs.h"
#include "server/store/testing/pending_request.h"
#include "server/testing/temp_dir.h"

namespace apm {
namespace {

using testing::StorageFault;

class StorageFaultsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::InstallFaultVfs();
    testing::SetStorageFault(StorageFault::kNone);
    Reopen();
  }
  void TearDown() override {
    testing::SetStorageFault(StorageFault::kNone);
    store_.reset();
  }
  // A restart: every connection closed, the file opened again.
  void Reopen() {
    store_.reset();
    auto s = SqlRequestStore::Open(path_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
  }
  Result<CreateOutcome> Submit(const std::string& id) {
    return store_->Create(testing::PendingRequest(id, "SER-" + id, "192.0.2.1", clock_.NowMs()),
                          1000, "");
  }

  testing::ScopedTempDir dir_{"apm-storage-faults"};
  std::string path_ = dir_.File("apm.db");
  ManualClock clock_;
  std::unique_ptr<SqlRequestStore> store_;
};

TEST_F(StorageFaultsTest, AFullDiskRefusesWritesKeepsWhatWasAcknowledgedAndRecovers) {
  for (const char* id : {"a", "b", "c"}) ASSERT_TRUE(Submit(id).ok()) << id;

  testing::SetStorageFault(StorageFault::kDiskFull);
  Result<CreateOutcome> refused = Submit("d");
  ASSERT_FALSE(refused.ok());
  // Unavailable: the API answers 503 with Retry-After, the client tries again.
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable) << refused.status().ToString();
  EXPECT_NE(refused.status().message().find("full"), std::string::npos)
      << refused.status().ToString();
  for (const char* id : {"a", "b", "c"}) EXPECT_TRUE(store_->Get(id).ok()) << id;

  testing::SetStorageFault(StorageFault::kNone);  // space is back: no restart needed
  ASSERT_TRUE(Submit("d").ok());
  EXPECT_TRUE(store_->Ping().ok());

  Reopen();
  for (const char* id : {"a", "b", "c", "d"}) EXPECT_TRUE(store_->Get(id).ok()) << id;
}

TEST_F(StorageFaultsTest, AFailedFsyncIsNeverAcknowledgedAndStopsEveryLaterWrite) {
  ASSERT_TRUE(Submit("a").ok());

  testing::SetStorageFault(StorageFault::kFsyncFails);
  EXPECT_FALSE(Submit("b").ok());
  // The disk answers again, but what the failed fsync dropped is unknown: no later write may
  // be acknowledged as if it were safe, and readiness says so.
  testing::SetStorageFault(StorageFault::kNone);
  Result<CreateOutcome> after = Submit("c");
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(after.status().message().find("until apm-server restarts"), std::string::npos)
      << after.status().ToString();
  EXPECT_FALSE(store_->Ping().ok());
  EXPECT_TRUE(store_->Get("a").ok()) << "reads still serve";

  Reopen();  // the restart the message asks for
  EXPECT_TRUE(store_->Get("a").ok());
  EXPECT_TRUE(Submit("c").ok());
  EXPECT_TRUE(store_->Ping().ok());
}

TEST_F(StorageFaultsTest, AnIntactStoreHasNoIntegrityProblems) {
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(Submit("r" + std::to_string(i)).ok());
  for (IntegrityDepth depth : {IntegrityDepth::kQuick, IntegrityDepth::kThorough}) {
    auto problems = CheckSqliteIntegrity(path_, depth);
    ASSERT_TRUE(problems.ok()) << problems.status().ToString();
    EXPECT_TRUE(problems->empty()) << problems->front();
  }
  EXPECT_EQ(CheckSqliteIntegrity(dir_.File("none.db"), IntegrityDepth::kQuick).status().code(),
            StatusCode::kNotFound);
}

TEST_F(StorageFaultsTest, ADamagedFileIsFoundByBothDepths) {
  for (int i = 0; i < 300; ++i) ASSERT_TRUE(Submit("r" + std::to_string(i)).ok());
  store_.reset();  // checkpointed: everything is in the main file
  ASSERT_TRUE(testing::DamageRequestsTable(path_));
  for (IntegrityDepth depth : {IntegrityDepth::kQuick, IntegrityDepth::kThorough}) {
    auto problems = CheckSqliteIntegrity(path_, depth);
    ASSERT_TRUE(problems.ok()) << problems.status().ToString();
    EXPECT_FALSE(problems->empty());
  }

  std::ofstream(dir_.File("text.db")) << "not a database, just text that is long enough to be "
                                         "read as a header and refused by SQLite as one";
  auto problems = CheckSqliteIntegrity(dir_.File("text.db"), IntegrityDepth::kQuick);
  ASSERT_TRUE(problems.ok()) << problems.status().ToString();
  ASSERT_EQ(problems->size(), 1u);
  EXPECT_NE(problems->front().find("not a database"), std::string::npos) << problems->front();
}

}  // namespace
}  // namespace apm
