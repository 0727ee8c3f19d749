// Wakes long-polling requests when their request changes. Waiters are timers on the
// connection's own executor (no thread per waiter); one poll of the store's change feed, on a
// background executor, serves them all, and also sees changes made by other processes
// (admin commands today, other instances with a shared database later).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "server/store/request_store.h"

namespace apm {

class ChangeWatcher {
 public:
  ChangeWatcher(RequestStore& store, boost::asio::io_context& background,
                std::chrono::milliseconds poll_interval);

  // Learns where the change feed is (before serving, so no change is missed), then polls it.
  Status Start();

  // Calls `done(true)` on `executor` once the request's version is past `version`, or
  // `done(false)` after `timeout` or at shutdown. Exactly one call, unless the wait is withdrawn
  // with the returned function (the client went away): then none, and `done` is released.
  std::function<void()> Wait(const std::string& id, int64_t version,
                             std::chrono::milliseconds timeout,
                             boost::asio::any_io_executor executor,
                             std::function<void(bool changed)> done);

  // Checks the feed now (after a change made in this process).
  void Poke();

  // Answers every waiter now and stops polling.
  void Shutdown();

 private:
  struct Waiter;
  void Poll();
  void ScheduleNext();
  void Fire(const std::shared_ptr<Waiter>& w, bool changed);
  // Removes `w` from waiters_ if it is still there; call with mu_ held.
  void Forget(const std::shared_ptr<Waiter>& w);

  RequestStore& store_;
  boost::asio::io_context& background_;
  boost::asio::steady_timer timer_;
  std::chrono::milliseconds interval_;
  std::mutex mu_;  // guards waiters_ and stopped_
  std::unordered_multimap<std::string, std::shared_ptr<Waiter>> waiters_;
  int64_t last_seq_ = 0;
  bool stopped_ = false;
};

}  // namespace apm
