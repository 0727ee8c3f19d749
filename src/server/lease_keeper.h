// Runs work that must run on one instance only (the import engine, the registration lookups,
// expiry and purge) while this instance holds a lease in the shared store. It renews the
// lease every third of its time; when renewing fails for half of it, it stops the work before
// the lease can pass to another instance, which takes it once it ran out
// (EngineFailoverSeconds). On SQLite there is one instance and it always holds the lease.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
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
  // `acquired` (told how the lease was taken) and `lost` run on the keeper's thread, one
  // after the other.
  LeaseKeeper(LeaseStore& store, Options options, std::function<void(const LeaseGrant&)> acquired,
              std::function<void()> lost);
  ~LeaseKeeper();

  void Start();
  // Stops the work (if held) and gives the lease up, so another instance takes it at once.
  void Stop();
  bool held() const;

 private:
  void Run();
  // One renewal attempt; returns how long to wait before the next.
  std::chrono::milliseconds Tick();

  LeaseStore& store_;
  Options options_;
  std::function<void(const LeaseGrant&)> acquired_;
  std::function<void()> lost_;
  mutable std::mutex mu_;  // guards stopping_ and held_
  std::condition_variable cv_;
  bool stopping_ = false;
  bool held_ = false;
  // When the last successful renewal was sent (the lease runs until at least ttl after it).
  std::chrono::steady_clock::time_point renewed_at_;
  std::thread thread_;
};

// "<host>-<pid>-<random>": names this process among the instances.
std::string RandomInstanceName();

}  // namespace apm
