#include "server/store/caching_request_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "server/clock.h"
#include "server/store/sql_request_store.h"
#include "server/testing/temp_dir.h"

namespace apm {
namespace {

class CachingRequestStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    sqlite_ = std::move(SqlRequestStore::Open(dir_.File("apm.db"))).value();
    // A second store on the same file stands for another process (an admin command).
    other_ = std::move(SqlRequestStore::Open(dir_.File("apm.db"))).value();
    cache_ = std::make_unique<CachingRequestStore>(*sqlite_, 64);
  }
  StoredRequest Make(const std::string& id) {
    StoredRequest r;
    r.id = id;
    r.serial_number = "S-" + id;
    r.hardware_hash = "T0E=";
    r.hash_fingerprint = "f";
    r.client_address = "a";
    r.api = "v1";
    r.verification = "verified";
    r.step = "Waiting for approval";
    r.created_at = r.updated_at = clock_.NowMs();
    r.expires_at = clock_.NowMs() + 1000;
    return r;
  }
  testing::ScopedTempDir dir_{"apm-cache-test"};
  ManualClock clock_;
  std::unique_ptr<SqlRequestStore> sqlite_, other_;
  std::unique_ptr<CachingRequestStore> cache_;
};

constexpr RequestState kPending[] = {RequestState::kPendingApproval};

TEST_F(CachingRequestStoreTest, OwnChangesAreSeenAtOnce) {
  ASSERT_TRUE(cache_->Create(Make("a"), 10, "").ok());
  EXPECT_EQ(cache_->Get("a")->state, RequestState::kPendingApproval);
  EXPECT_EQ(cache_->size(), 1u);
  ASSERT_TRUE(cache_
                  ->Transition("a", kPending, RequestState::kRejected, "Rejected", std::nullopt,
                               clock_.NowMs())
                  .ok());
  EXPECT_EQ(cache_->Get("a")->state, RequestState::kRejected);
  clock_.Advance(std::chrono::seconds(5));
  ASSERT_TRUE(cache_->Create(Make("b"), 10, "").ok());
  EXPECT_EQ(cache_->Get("b")->state, RequestState::kPendingApproval);
  ASSERT_EQ(*cache_->ExpirePending(clock_.NowMs() + 5000), 1);
  EXPECT_EQ(cache_->Get("b")->state, RequestState::kExpired);
}

TEST_F(CachingRequestStoreTest, OtherProcessesChangesArriveThroughTheFeed) {
  int64_t seq = 0;
  ASSERT_TRUE(cache_->ChangesSince(0, &seq).ok());
  ASSERT_TRUE(cache_->Create(Make("a"), 10, "").ok());
  ASSERT_TRUE(cache_->ChangesSince(seq, &seq).ok());
  EXPECT_EQ(cache_->Get("a")->state, RequestState::kPendingApproval);  // now cached
  ASSERT_TRUE(other_
                  ->Transition("a", kPending, RequestState::kRejected, "Rejected", std::nullopt,
                               clock_.NowMs())
                  .ok());
  // Until the feed is read the cached copy may be served; after it, the new state.
  ASSERT_TRUE(cache_->ChangesSince(seq, &seq).ok());
  EXPECT_EQ(cache_->Get("a")->state, RequestState::kRejected);
}

TEST_F(CachingRequestStoreTest, StaysWithinCapacityAndSkipsAliases) {
  for (int i = 0; i < 300; ++i) {
    std::string id = "r" + std::to_string(i);
    ASSERT_TRUE(cache_->Create(Make(id), 1000, "alias-" + id).ok());
    ASSERT_TRUE(cache_->Get(id).ok());
    ASSERT_EQ(cache_->Get("alias-" + id)->id, id);
  }
  EXPECT_LE(cache_->size(), 64u);
  EXPECT_EQ(cache_->Get("nope").status().code(), StatusCode::kNotFound);
}

TEST_F(CachingRequestStoreTest, PurgedRequestsAreGone) {
  ASSERT_TRUE(cache_->Create(Make("a"), 10, "").ok());
  ASSERT_TRUE(cache_
                  ->Transition("a", kPending, RequestState::kCompleted, "Ready", std::nullopt,
                               clock_.NowMs())
                  .ok());
  ASSERT_TRUE(cache_->Get("a").ok());
  ASSERT_EQ(*cache_->PurgeFinishedBefore(clock_.NowMs() + 1), 1);
  EXPECT_EQ(cache_->Get("a").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace apm
