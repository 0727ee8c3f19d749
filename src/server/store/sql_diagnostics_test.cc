// DiagnosticsStore on every backend: the same tests on SQLite and PostgreSQL.
#include <gtest/gtest.h>

#include <string>

#include "server/store/testing/sql_store_fixture.h"

namespace apm {
namespace {

class SqlDiagnosticsTest : public testing::SqlStoreFixture {
 protected:
  DiagnosticsBundle Bundle(const std::string& request_id) {
    DiagnosticsBundle b;
    b.request_id = request_id;
    b.file_name = "ap-diagnostics-S1-20261130-153012.zip";
    b.uploaded_at = clock_.NowMs();
    b.address = "192.0.2.7";
    b.sha256 = "ab12";
    return b;
  }
};

INSTANTIATE_TEST_SUITE_P(Backends, SqlDiagnosticsTest,
                         ::testing::Values(testing::Backend::kSqlite, testing::Backend::kPostgres),
                         testing::BackendName);

TEST_P(SqlDiagnosticsTest, KeepsEveryByteNumbersBundlesAndSurvivesReopen) {
  ASSERT_TRUE(store_->Create(Make("req-1", "S1"), 10, "").ok());
  // Every byte value, NULs and invalid UTF-8 included: a zip is binary.
  std::string bytes;
  for (int i = 0; i < 512; ++i) bytes.push_back(char(i % 256));
  Result<DiagnosticsBundle> first = store_->AddDiagnostics(Bundle("req-1"), bytes, 5);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(first->number, 1);
  EXPECT_EQ(first->size_bytes, 512);
  EXPECT_TRUE(first->bytes.empty()) << "the bytes are not handed back";
  clock_.Advance(std::chrono::seconds(5));
  Result<DiagnosticsBundle> second = store_->AddDiagnostics(Bundle("req-1"), "PK", 5);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->number, 2);

  Reopen();
  Result<std::vector<DiagnosticsBundle>> list = store_->ListDiagnostics("req-1");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].number, 1);
  EXPECT_EQ((*list)[0].file_name, "ap-diagnostics-S1-20261130-153012.zip");
  EXPECT_EQ((*list)[0].size_bytes, 512);
  EXPECT_EQ((*list)[0].address, "192.0.2.7");
  EXPECT_EQ((*list)[0].sha256, "ab12");
  EXPECT_TRUE((*list)[0].bytes.empty());  // listings carry no bytes
  EXPECT_EQ((*list)[1].uploaded_at, (*list)[0].uploaded_at + 5000);
  Result<DiagnosticsBundle> got = store_->GetDiagnostics("req-1", 1);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->bytes, bytes);
  EXPECT_EQ(store_->GetDiagnostics("req-1", 3).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->ListDiagnostics("other")->size(), 0u);
}

TEST_P(SqlDiagnosticsTest, RefusesPastTheLimitAndForARequestThatIsGone) {
  ASSERT_TRUE(store_->Create(Make("req-1", "S1"), 10, "").ok());
  ASSERT_TRUE(store_->AddDiagnostics(Bundle("req-1"), "a", 2).ok());
  ASSERT_TRUE(store_->AddDiagnostics(Bundle("req-1"), "b", 2).ok());
  Result<DiagnosticsBundle> third = store_->AddDiagnostics(Bundle("req-1"), "c", 2);
  EXPECT_EQ(third.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(store_->ListDiagnostics("req-1")->size(), 2u);
  EXPECT_EQ(store_->AddDiagnostics(Bundle("nope"), "a", 2).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(QueryInt("SELECT COUNT(*) FROM request_diagnostics"), 2);
}

TEST_P(SqlDiagnosticsTest, PurgingTheRequestRemovesItsBundles) {
  ASSERT_TRUE(store_->Create(Make("done", "S1"), 10, "").ok());
  ASSERT_TRUE(store_->Create(Make("open", "S2"), 10, "").ok());
  ASSERT_TRUE(store_->AddDiagnostics(Bundle("done"), "zip of done", 5).ok());
  ASSERT_TRUE(store_->AddDiagnostics(Bundle("open"), "zip of open", 5).ok());
  RequestState pending[] = {RequestState::kPendingApproval};
  ASSERT_TRUE(store_
                  ->Transition("done", pending, RequestState::kFailed, "Import failed",
                               std::nullopt, clock_.NowMs())
                  .ok());
  clock_.Advance(std::chrono::hours(1));
  ASSERT_EQ(*store_->PurgeFinishedBefore(clock_.NowMs()), 1);
  EXPECT_EQ(store_->GetDiagnostics("done", 1).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(QueryInt("SELECT COUNT(*) FROM request_diagnostics WHERE request_id = 'done'"), 0);
  EXPECT_EQ(store_->GetDiagnostics("open", 1)->bytes, "zip of open");
}

}  // namespace
}  // namespace apm
