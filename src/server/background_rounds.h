// A thread that runs one round of work every period while it may (the instance holds the
// engine's lease), until Stop(): the notifier and the audit export each own one.
#pragma once

#include <chrono>
#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>

#include "server/logging.h"

namespace apm {

class BackgroundRounds {
 public:
  BackgroundRounds() = default;
  BackgroundRounds(const BackgroundRounds&) = delete;
  BackgroundRounds& operator=(const BackgroundRounds&) = delete;
  ~BackgroundRounds() { Stop(); }

  void Start(std::chrono::milliseconds period, std::function<bool()> may_run,
             std::function<void()> round) {
    thread_ = std::thread([this, period, may_run = std::move(may_run), round = std::move(round)] {
      std::unique_lock lock(mu_);
      while (!stopping_) {
        lock.unlock();
        // A round that throws (a bug) costs that round, never the process.
        try {
          if (may_run()) round();
        } catch (const std::exception& e) {
          LogError("a background round failed", {{"error", e.what()}});
        }
        lock.lock();
        wake_.wait_for(lock, period, [this] { return stopping_; });
      }
    });
  }

  // Waits for a round in progress to end.
  void Stop() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace apm
