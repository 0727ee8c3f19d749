#include "server/lease_keeper.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "server/store/sql_request_store.h"
#include "server/testing/temp_dir.h"

namespace apm {
namespace {

using std::chrono::milliseconds;

// Two instances (two stores on one database), each with its keeper.
class LeaseKeeperTest : public ::testing::Test {
 protected:
  struct Instance {
    std::unique_ptr<SqlRequestStore> store;
    std::unique_ptr<LeaseKeeper> keeper;
    std::atomic<int> running{0};  // the work's starts minus its stops
    std::atomic<bool> taken_from_other{false};
  };
  void Make(Instance& i, const std::string& name) {
    i.store = std::move(SqlRequestStore::Open(dir_.File("apm.db"))).value();
    i.keeper = std::make_unique<LeaseKeeper>(
        *i.store, LeaseKeeper::Options{.holder = name, .ttl = milliseconds(600)},
        [&i](const LeaseGrant& g) {
          ++i.running;
          i.taken_from_other = g.from_other;
        },
        [&i] { --i.running; });
  }
  static bool WaitFor(const std::function<bool()>& done) {
    for (int i = 0; i < 300 && !done(); ++i) std::this_thread::sleep_for(milliseconds(10));
    return done();
  }
  testing::ScopedTempDir dir_{"apm-lease-test"};
};

TEST_F(LeaseKeeperTest, OneInstanceRunsTheWorkAndAnotherTakesOverWhenItStops) {
  Instance a, b;
  Make(a, "a");
  Make(b, "b");
  a.keeper->Start();
  ASSERT_TRUE(WaitFor([&] { return a.keeper->held(); }));
  b.keeper->Start();
  std::this_thread::sleep_for(milliseconds(800));  // more than a lease's time: a renews
  EXPECT_TRUE(a.keeper->held());
  EXPECT_FALSE(b.keeper->held());
  EXPECT_EQ(a.running, 1);
  EXPECT_EQ(b.running, 0);
  a.keeper->Stop();  // gives the lease up: b takes it at its next renewal, not a lease later
  EXPECT_EQ(a.running, 0);
  auto stopped = std::chrono::steady_clock::now();
  ASSERT_TRUE(WaitFor([&] { return b.keeper->held(); }));
  EXPECT_LT(std::chrono::steady_clock::now() - stopped, milliseconds(450));
  EXPECT_EQ(b.running, 1);
  EXPECT_TRUE(b.taken_from_other);  // b's work learns that a was running until just now
  EXPECT_FALSE(a.taken_from_other);
  b.keeper->Stop();
  EXPECT_EQ(b.running, 0);
}

TEST_F(LeaseKeeperTest, AHolderThatCannotRenewStopsTheWorkBeforeTheLeaseRunsOut) {
  Instance a;
  Make(a, "a");
  a.keeper->Start();
  ASSERT_TRUE(WaitFor([&] { return a.running == 1; }));
  auto cut = std::chrono::steady_clock::now();
  a.store->Close();  // the database is gone for this instance
  ASSERT_TRUE(WaitFor([&] { return a.running == 0; }));
  EXPECT_LT(std::chrono::steady_clock::now() - cut, milliseconds(600));
  EXPECT_FALSE(a.keeper->held());
  // Meanwhile another instance takes the lease once it ran out, and only then.
  Instance b;
  Make(b, "b");
  b.keeper->Start();
  ASSERT_TRUE(WaitFor([&] { return b.keeper->held(); }));
  EXPECT_GE(std::chrono::steady_clock::now() - cut, milliseconds(300));
  b.keeper->Stop();
  a.keeper->Stop();
}

}  // namespace
}  // namespace apm
