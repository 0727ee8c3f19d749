// Wakes this instance's long-polls when another instance changes a request: a connection of
// its own LISTENs on the channel the store's trigger notifies (apm_changes). The change feed's
// polling stays as the fallback; after the link breaks it reconnects and wakes once, since a
// notification may have been missed.
#pragma once

#include <atomic>
#include <functional>
#include <thread>

#include "server/store/pg_connection.h"

namespace apm {

class PgChangeListener {
 public:
  PgChangeListener(PgOptions options, std::function<void()> changed);
  ~PgChangeListener();
  void Start();
  void Stop();
  int64_t notifications() const { return notifications_; }

 private:
  void Run();
  // Listens on one connection until it breaks or Stop().
  void Listen(PgConnection& conn);

  PgOptions options_;
  std::function<void()> changed_;
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> notifications_{0};
  std::thread thread_;
};

}  // namespace apm
