// Runs work that must run on one instance only (the import engine, the registration lookups,
// expiry and purge) while this instance holds a lease in the shared store. It renews the
// lease every third of its time; when no renewal succeeded for half of it, a watchdog stops
// the work, even while a renewal is still waiting on the database, before the lease can pass
// to another instance, which takes it once it ran out (EngineFailoverSeconds). On SQLite
// there is one instance and it always holds the lease.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "server/store/lease_store.h"

namespace apm {

class LeaseKeeper {
 public:
  struct Options {
    std::string name = "engine";
    std::string holder;  // this instance (RandomInstanceName())
    std::chrono::milliseconds ttl{15'000};
  };
  // `acquired` (told how the lease was taken, also when another holder was seen only by an
  // earlier renewal that answered too late to start the work) and `lost` alternate, never at
  // the same time; they run on the keeper's threads. `acquired` returns false when the work
  // could not start here (say its credentials became unreadable): the lease is then given up
  // at once, so another instance runs the work, and not taken again for two leases' time. If it
  // fails again after that (no other instance did better), the lease is kept, so that the work
  // that needs only the lease (expiry, purge) goes on, and the start is tried every two leases.
  LeaseKeeper(LeaseStore& store, Options options, std::function<bool(const LeaseGrant&)> acquired,
              std::function<void()> lost);
  ~LeaseKeeper();

  void Start();
  // Stops the work (if held) and gives the lease up, so another instance takes it at once.
  void Stop();
  bool held() const;
  // Held, and renewed less than half a lease ago: the work may act now. Unlike held(), this
  // turns false on time even when the watchdog has not run yet (this process was paused).
  bool current() const;

 private:
  // Half a lease after the last renewal: the work stops by then (caller holds mu_).
  std::chrono::steady_clock::time_point WorkDeadline() const {
    return renewed_at_ + options_.ttl / 2;
  }
  void Run();
  // Ends the work when the last renewal is half a lease old, whatever Run is waiting for.
  void Watch();
  // One renewal attempt; returns how long to wait before the next.
  std::chrono::milliseconds Tick();
  // Brings the work in line with current(): stops it (logging `why_stop`) when the lease is not
  // held or was taken over, starts it after a successful `renewal`. One call at a time.
  void Reconcile(const std::optional<LeaseGrant>& renewal, const char* why_stop);
  // After a start that failed: gives the lease up; how long to stand back. nullopt otherwise.
  std::optional<std::chrono::milliseconds> GiveUpAfterFailedStart();

  LeaseStore& store_;
  Options options_;
  std::function<bool(const LeaseGrant&)> acquired_;
  std::function<void()> lost_;
  mutable std::mutex mu_;  // guards stopping_, held_ and renewed_at_
  std::condition_variable cv_;
  bool stopping_ = false;
  bool held_ = false;
  // When the last successful renewal was sent (the lease runs until at least ttl after it).
  std::chrono::steady_clock::time_point renewed_at_;
  std::mutex term_mu_;         // held while the work starts or stops
  bool term_running_ = false;  // guarded by term_mu_
  // Guarded by term_mu_: starts that failed in a row, when to try again, and whether to give
  // the lease up now (after the first of them).
  int failed_starts_ = 0;
  std::chrono::steady_clock::time_point next_start_try_{};
  bool give_up_ = false;
  // The last other holder seen since the work last started, and when its time ran out
  // (guarded by term_mu_); handed to the next start.
  struct TakenFrom {
    std::chrono::steady_clock::time_point until;
    std::string holder;
  };
  std::optional<TakenFrom> taken_from_;
  std::thread thread_;
  std::thread watchdog_;
};

// "<host>-<pid>-<random>": names this process among the instances.
std::string RandomInstanceName();

}  // namespace apm
