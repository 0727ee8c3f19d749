#include "server/change_watcher.h"

#include <boost/asio/post.hpp>

#include "server/logging.h"

namespace apm {

namespace asio = boost::asio;

struct ChangeWatcher::Waiter {
  Waiter(asio::any_io_executor ex, int64_t v, std::function<void(bool)> d)
      : executor(ex), timer(ex), version(v), done(std::move(d)) {}
  asio::any_io_executor executor;
  asio::steady_timer timer;  // touched only on `executor`
  int64_t version;
  std::function<void(bool)> done;
  std::atomic<bool> fired{false};
  std::string id;
};

ChangeWatcher::ChangeWatcher(RequestStore& store, asio::io_context& background,
                             std::chrono::milliseconds poll_interval)
    : store_(store), background_(background), timer_(background), interval_(poll_interval) {}

Status ChangeWatcher::Start() {
  int64_t latest = 0;
  Result<std::vector<RequestChange>> none = store_.ChangesSince(INT64_MAX, &latest);
  if (!none.ok()) return none.status();
  last_seq_ = latest;
  ScheduleNext();
  return Status::Ok();
}

void ChangeWatcher::ScheduleNext() {
  timer_.expires_after(interval_);
  timer_.async_wait([this](boost::system::error_code ec) {
    if (!ec) Poll();
  });
}

void ChangeWatcher::Poll() {
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
  }
  int64_t latest = last_seq_;
  Result<std::vector<RequestChange>> changes = store_.ChangesSince(last_seq_, &latest);
  if (!changes.ok()) {
    LogWarn("change feed unavailable", {{"error", changes.status().ToString()}});
  } else {
    last_seq_ = latest;
    std::vector<std::shared_ptr<Waiter>> ready;
    {
      std::lock_guard lock(mu_);
      for (const RequestChange& c : *changes) {
        auto [begin, end] = waiters_.equal_range(c.id);
        for (auto it = begin; it != end;) {
          if (c.version > it->second->version) {
            ready.push_back(it->second);
            it = waiters_.erase(it);
          } else {
            ++it;
          }
        }
      }
    }
    for (auto& w : ready) Fire(w, true);
  }
  ScheduleNext();
}

void ChangeWatcher::Poke() {
  asio::post(background_, [this] {
    timer_.cancel();
    Poll();
  });
}

void ChangeWatcher::Fire(const std::shared_ptr<Waiter>& w, bool changed) {
  if (w->fired.exchange(true)) return;
  asio::post(w->executor, [w, changed] {
    w->timer.cancel();
    auto done = std::move(w->done);
    done(changed);
  });
}

void ChangeWatcher::Forget(const std::shared_ptr<Waiter>& w) {
  auto [begin, end] = waiters_.equal_range(w->id);
  for (auto it = begin; it != end; ++it) {
    if (it->second == w) {
      waiters_.erase(it);
      return;
    }
  }
}

std::function<void()> ChangeWatcher::Wait(const std::string& id, int64_t version,
                                          std::chrono::milliseconds timeout,
                                          asio::any_io_executor executor,
                                          std::function<void(bool)> done) {
  auto w = std::make_shared<Waiter>(executor, version, std::move(done));
  w->id = id;
  // Withdrawing holds the waiter weakly: it must not keep an answered wait alive.
  auto withdraw = [this, weak = std::weak_ptr<Waiter>(w)] {
    std::shared_ptr<Waiter> w = weak.lock();
    if (!w || w->fired.exchange(true)) return;
    {
      std::lock_guard lock(mu_);
      Forget(w);
    }
    asio::post(w->executor, [w] {
      w->timer.cancel();
      w->done = nullptr;  // releases what the answer would have used (the connection)
    });
  };
  {
    std::lock_guard lock(mu_);
    if (stopped_) {
      Fire(w, false);
      return withdraw;
    }
    waiters_.emplace(id, w);
  }
  // A change between the caller's read and our registration would be missed; look once more.
  Result<StoredRequest> now = store_.Get(id);
  if (now.ok() && now->version > version) {
    {
      std::lock_guard lock(mu_);
      Forget(w);
    }
    Fire(w, true);
    return withdraw;
  }
  asio::post(executor, [this, w, timeout] {
    if (w->fired) return;
    w->timer.expires_after(timeout);
    w->timer.async_wait([this, w](boost::system::error_code ec) {
      if (ec) return;  // cancelled: Fire() answered already, or the wait was withdrawn
      {
        std::lock_guard lock(mu_);
        Forget(w);
      }
      Fire(w, false);
    });
  });
  return withdraw;
}

void ChangeWatcher::Shutdown() {
  std::vector<std::shared_ptr<Waiter>> all;
  {
    std::lock_guard lock(mu_);
    stopped_ = true;
    for (auto& [id, w] : waiters_) all.push_back(w);
    waiters_.clear();
  }
  for (auto& w : all) Fire(w, false);
  asio::post(background_, [this] { timer_.cancel(); });
}

}  // namespace apm
