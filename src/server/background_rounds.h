// A thread that runs one round of work every period while it may (the instance holds the
// engine's lease), until Stop(): the notifier and the audit export each own one. A round asks
// Continuing() between its sends, and gives its calls send_gate() as their may_send, so an
// instance that lost the lease (or is stopping) sends nothing more.
#pragma once

#include <atomic>
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
    may_run_ = std::move(may_run);
    thread_ = std::thread([this, period, round = std::move(round)] {
      std::unique_lock lock(mu_);
      while (!stopping_) {
        lock.unlock();
        // A round that throws (a bug) costs that round, never the process.
        try {
          if (may_run_()) round();
        } catch (const std::exception& e) {
          LogError("a background round failed", {{"error", e.what()}});
        }
        lock.lock();
        wake_.wait_for(lock, period, [this] { return stopping_; });
      }
    });
  }

  // Rounds should stop sending now (before the caller cancels their calls: a call cut off then
  // is not a failure); Stop() then waits for the round.
  void RequestStop() { stop_requested_ = true; }
  // Whether a round may go on: not stopping, and (once started) this instance may run.
  bool Continuing() const { return !stop_requested_ && (!may_run_ || may_run_()); }
  // The may_send of a round's calls: empty (always) before Start.
  const std::function<bool()>& send_gate() const { return may_run_; }

  // Waits for a round in progress to end.
  void Stop() {
    stop_requested_ = true;
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::function<bool()> may_run_;  // set by Start, before the thread
  std::atomic<bool> stop_requested_{false};
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace apm
