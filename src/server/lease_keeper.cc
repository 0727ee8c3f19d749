#include "server/lease_keeper.h"

#include <unistd.h>

#include <algorithm>

#include "server/logging.h"
#include "server/random_guid.h"

namespace apm {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

LeaseKeeper::LeaseKeeper(LeaseStore& store, Options options,
                         std::function<void(const LeaseGrant&)> acquired,
                         std::function<void()> lost)
    : store_(store),
      options_(std::move(options)),
      acquired_(std::move(acquired)),
      lost_(std::move(lost)) {}

LeaseKeeper::~LeaseKeeper() {
  Stop();
}

void LeaseKeeper::Start() {
  thread_ = std::thread([this] { Run(); });
}

void LeaseKeeper::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

bool LeaseKeeper::held() const {
  std::lock_guard lock(mu_);
  return held_;
}

void LeaseKeeper::Run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    lock.unlock();
    milliseconds wait = Tick();
    lock.lock();
    cv_.wait_for(lock, wait, [this] { return stopping_; });
  }
  bool was_held = held_;
  held_ = false;
  lock.unlock();
  if (!was_held) return;
  lost_();
  if (Status s = store_.ReleaseLease(options_.name, options_.holder); !s.ok()) {
    LogWarn("lease not released; another instance takes it when it runs out",
            {{"lease", options_.name}, {"error", s.ToString()}});
  } else {
    LogInfo("lease released", {{"lease", options_.name}, {"holder", options_.holder}});
  }
}

milliseconds LeaseKeeper::Tick() {
  const milliseconds renew_every = options_.ttl / 3;
  steady_clock::time_point sent = steady_clock::now();
  Result<LeaseGrant> got = store_.TryLease(options_.name, options_.holder, options_.ttl.count());
  bool was_held = held();
  if (got.ok() && got->held) {
    renewed_at_ = sent;
    if (!was_held) {
      LogInfo("lease taken: this instance runs the import engine",
              {{"lease", options_.name}, {"holder", options_.holder}});
      {
        std::lock_guard lock(mu_);
        held_ = true;
      }
      acquired_(*got);
    }
    return renew_every;
  }
  if (!got.ok()) {
    LogWarn("lease not renewed", {{"lease", options_.name}, {"error", got.status().ToString()}});
  }
  // Lost, or not renewed for half its time: stop before another instance may take it.
  if (was_held && (got.ok() || steady_clock::now() - renewed_at_ >= options_.ttl / 2)) {
    LogWarn("lease lost: stopping the import engine on this instance",
            {{"lease", options_.name}, {"holder", options_.holder}});
    {
      std::lock_guard lock(mu_);
      held_ = false;
    }
    lost_();
  }
  if (!held() || got.ok()) return renew_every;
  // Still held but not renewed: try again soon, and in time to stop at half the lease.
  auto left = std::chrono::duration_cast<milliseconds>(renewed_at_ + options_.ttl / 2 -
                                                       steady_clock::now());
  return std::clamp(std::min(left, options_.ttl / 10), milliseconds(10), renew_every);
}

std::string RandomInstanceName() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  return std::string(host) + "-" + std::to_string(getpid()) + "-" + RandomToken(6);
}

}  // namespace apm
