#include "server/lease_keeper.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
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
    std::atomic<int> starts{0};  // tries, failed ones included
  };
  // `on_start` false: the work fails to start (as an engine whose credentials do not load).
  void Make(
      Instance& i, const std::string& name, LeaseStore* leases = nullptr,
      std::function<bool()> on_start = [] { return true; }) {
    i.store = std::move(SqlRequestStore::Open(dir_.File("apm.db"))).value();
    i.keeper = std::make_unique<LeaseKeeper>(
        leases ? *leases : *i.store, LeaseKeeper::Options{.holder = name, .ttl = milliseconds(600)},
        [&i, on_start](const LeaseGrant& g) {
          ++i.starts;
          if (!on_start()) return false;
          ++i.running;
          i.taken_from_other = g.from_other;
          return true;
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

// An instance whose work cannot start (its Graph certificate became unreadable) must not sit
// on the lease: before this, it held it with nothing running and no instance imported.
TEST_F(LeaseKeeperTest, AnInstanceWhoseWorkCannotStartLetsAnotherHaveTheLease) {
  Instance a, b;
  std::atomic<bool> a_can_start{false};
  Make(a, "a", nullptr, [&] { return a_can_start.load(); });
  Make(b, "b");
  a.keeper->Start();
  ASSERT_TRUE(WaitFor([&] { return a.starts >= 1; }));
  auto failed = std::chrono::steady_clock::now();
  b.keeper->Start();
  ASSERT_TRUE(WaitFor([&] { return b.running == 1; })) << "b never got the lease";
  // Released at once, not left to run out (600 ms): b's first try takes it.
  EXPECT_LT(std::chrono::steady_clock::now() - failed, milliseconds(450));
  EXPECT_EQ(a.running, 0);
  EXPECT_FALSE(a.keeper->held());
  EXPECT_TRUE(b.keeper->held());
  // Alone again, and able to start: a takes the lease back and its work runs.
  a_can_start = true;
  b.keeper->Stop();
  ASSERT_TRUE(WaitFor([&] { return a.running == 1; }));
  EXPECT_TRUE(a.keeper->held());
  EXPECT_GE(a.starts, 2);
  a.keeper->Stop();
  EXPECT_EQ(a.running, 0);
}

// Alone and still unable to start after giving the lease up once: it keeps the lease (so
// expiry and purge, which need only the lease, go on) and tries again every two leases.
TEST_F(LeaseKeeperTest, ALoneInstanceWhoseWorkCannotStartKeepsTheLeaseAndRetriesSlowly) {
  Instance a;
  Make(a, "a", nullptr, [] { return false; });
  a.keeper->Start();
  ASSERT_TRUE(WaitFor([&] { return a.starts >= 2; }));  // gave up once, took it back
  ASSERT_TRUE(WaitFor([&] { return a.keeper->current(); }));
  int starts = a.starts;
  std::this_thread::sleep_for(milliseconds(2000));
  EXPECT_TRUE(a.keeper->held());
  EXPECT_EQ(a.running, 0);
  EXPECT_LE(a.starts - starts, 2) << "tried every 1.2 s at most, not at every 200 ms renewal";
  EXPECT_GE(a.starts - starts, 1) << "and still tried";
  a.keeper->Stop();
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

// Leases from `inner`, except that while `hang` is set a renewal waits (a database that takes
// a connection but does not answer, or a writer lock held by a long transaction).
class HangingLeases : public LeaseStore {
 public:
  explicit HangingLeases(LeaseStore& inner) : inner_(inner) {}
  Result<LeaseGrant> TryLease(const std::string& name, const std::string& holder,
                              int64_t ttl_ms) override {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return !hang_; });
    lock.unlock();
    return inner_.TryLease(name, holder, ttl_ms);
  }
  Status ReleaseLease(const std::string& name, const std::string& holder) override {
    return inner_.ReleaseLease(name, holder);
  }
  void Hang(bool on) {
    std::lock_guard lock(mu_);
    hang_ = on;
    cv_.notify_all();
  }

 private:
  LeaseStore& inner_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool hang_ = false;
};

TEST_F(LeaseKeeperTest, ARenewalThatHangsStillStopsTheWorkBeforeAnotherInstanceStartsIt) {
  Instance a, b;
  std::unique_ptr<SqlRequestStore> a_db =
      std::move(SqlRequestStore::Open(dir_.File("apm.db"))).value();
  HangingLeases a_leases(*a_db);
  Make(a, "a", &a_leases);
  std::atomic<bool> overlapped{false};
  Make(b, "b", nullptr, [&] {
    overlapped = overlapped || a.running != 0;
    return true;
  });
  a.keeper->Start();
  ASSERT_TRUE(WaitFor([&] { return a.running == 1; }));
  std::this_thread::sleep_for(milliseconds(250));  // a renewed at least once
  auto hung = std::chrono::steady_clock::now();
  a_leases.Hang(true);
  b.keeper->Start();
  ASSERT_TRUE(WaitFor([&] { return a.running == 0; }));
  // Half a lease after a's last renewal, which was at most a third of a lease before the hang.
  EXPECT_LT(std::chrono::steady_clock::now() - hung, milliseconds(450));
  EXPECT_FALSE(a.keeper->held());
  ASSERT_TRUE(WaitFor([&] { return b.running == 1; }));
  EXPECT_FALSE(overlapped) << "b started the work while a's was still running";
  EXPECT_TRUE(b.taken_from_other);
  a_leases.Hang(false);  // a's renewal returns: the lease is b's now, a's work stays stopped
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_EQ(a.running, 0);
  EXPECT_EQ(b.running, 1);
  b.keeper->Stop();
  a.keeper->Stop();
}

// The renewal that takes the lease from another holder answers after half a lease (it waited
// on the database): too late to start the work, so the next renewal, which names this
// instance only, starts it; the work must still learn that another holder came before.
TEST_F(LeaseKeeperTest, ATakeOverThatAnsweredTooLateIsStillToldToTheWork) {
  Instance a, b;
  Make(a, "a");
  std::unique_ptr<SqlRequestStore> b_db =
      std::move(SqlRequestStore::Open(dir_.File("apm.db"))).value();
  HangingLeases b_leases(*b_db);
  Make(b, "b", &b_leases);
  a.keeper->Start();
  ASSERT_TRUE(WaitFor([&] { return a.running == 1; }));
  b_leases.Hang(true);
  b.keeper->Start();  // its first renewal waits
  a.store->Close();   // a cannot renew: its work stops and its lease runs out
  ASSERT_TRUE(WaitFor([&] { return a.running == 0; }));
  std::this_thread::sleep_for(milliseconds(700));
  b_leases.Hang(false);  // b takes the lease from a, but sent that renewal 700 ms ago
  ASSERT_TRUE(WaitFor([&] { return b.running == 1; }));
  EXPECT_TRUE(b.taken_from_other);
  b.keeper->Stop();
  a.keeper->Stop();
}

}  // namespace
}  // namespace apm
