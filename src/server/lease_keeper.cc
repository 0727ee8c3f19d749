#include "server/lease_keeper.h"

#include <unistd.h>

#include <algorithm>

#include "server/logging.h"
#include "server/random_guid.h"

namespace apm {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

LeaseKeeper::LeaseKeeper(LeaseStore& store, Options options,
                         std::function<bool(const LeaseGrant&)> acquired,
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
  watchdog_ = std::thread([this] { Watch(); });
}

void LeaseKeeper::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
  if (watchdog_.joinable()) watchdog_.join();
}

bool LeaseKeeper::held() const {
  std::lock_guard lock(mu_);
  return held_;
}

bool LeaseKeeper::current() const {
  std::lock_guard lock(mu_);
  return held_ && steady_clock::now() < WorkDeadline();
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
  Reconcile(std::nullopt, nullptr);
  // Also when the watchdog had stopped the work: the database may still name this instance.
  // Releasing a lease someone else holds changes nothing.
  Status released = store_.ReleaseLease(options_.name, options_.holder);
  if (!was_held) return;
  if (!released.ok()) {
    LogWarn("lease not released; another instance takes it when it runs out",
            {{"lease", options_.name}, {"error", released.ToString()}});
  } else {
    LogInfo("lease released", {{"lease", options_.name}, {"holder", options_.holder}});
  }
}

// A renewal can wait on a busy or restarting database for longer than the lease lasts; the
// work must be stopped by then all the same, or two instances run it at once.
void LeaseKeeper::Watch() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    steady_clock::time_point deadline = WorkDeadline();
    if (held_ && steady_clock::now() >= deadline) {
      held_ = false;
      lock.unlock();
      Reconcile(std::nullopt, "lease not renewed in time: stopping the import engine here");
      lock.lock();
    } else if (held_) {
      cv_.wait_until(lock, deadline);
    } else {
      cv_.wait(lock);
    }
  }
}

milliseconds LeaseKeeper::Tick() {
  const milliseconds renew_every = options_.ttl / 3;
  steady_clock::time_point sent = steady_clock::now();
  Result<LeaseGrant> got = store_.TryLease(options_.name, options_.holder, options_.ttl.count());
  auto took = std::chrono::duration_cast<milliseconds>(steady_clock::now() - sent);
  // Renewals start a third of a lease apart and must end within half of one: one slower than
  // a sixth may let the watchdog stop the work (a failover for nothing).
  if (took > options_.ttl / 6) {
    LogWarn("lease renewal was slow", {{"lease", options_.name}, {"ms", took.count()}});
  }
  if (got.ok() && got->held) {
    {
      std::lock_guard lock(mu_);
      renewed_at_ = sent;
      held_ = true;
      cv_.notify_all();  // the watchdog's deadline moved
    }
    Reconcile(*got, "lease taken over meanwhile: restarting the import engine here");
    if (std::optional<milliseconds> stand_back = GiveUpAfterFailedStart()) return *stand_back;
    // Timed from when this renewal was sent, so a slow database does not push them apart.
    return std::max(milliseconds(10), renew_every - took);
  }
  if (!got.ok()) {
    LogWarn("lease not renewed", {{"lease", options_.name}, {"error", got.status().ToString()}});
    // Past the work's deadline the lease counts as lost here too, not only once the watchdog
    // wakes: held() must agree with the work being stopped below.
    std::lock_guard lock(mu_);
    if (held_ && steady_clock::now() >= WorkDeadline()) held_ = false;
  } else {
    std::lock_guard lock(mu_);
    held_ = false;
  }
  Reconcile(std::nullopt, "lease lost: stopping the import engine on this instance");
  std::lock_guard lock(mu_);
  if (!held_ || got.ok()) return renew_every;
  // Still held but not renewed: try again soon, before the watchdog stops the work.
  auto left = std::chrono::duration_cast<milliseconds>(WorkDeadline() - steady_clock::now());
  return std::clamp(std::min(left, options_.ttl / 10), milliseconds(10), renew_every);
}

void LeaseKeeper::Reconcile(const std::optional<LeaseGrant>& renewal, const char* why_stop) {
  std::lock_guard term(term_mu_);
  // Not held(): a renewal that answered after the work's deadline must not start the work.
  bool holds = current();
  // Taken from another holder while our work ran: it must not go on as if nobody else had run.
  bool taken_over = renewal && renewal->from_other;
  if (taken_over) {
    // Kept until the work starts: a take-over whose answer came too late to start it is
    // followed by renewals that name this instance only.
    auto until = steady_clock::now() + milliseconds(renewal->other_until_ms);
    if (!taken_from_ || until > taken_from_->until) {
      taken_from_ = TakenFrom{until, renewal->previous_holder};
    }
  }
  if (term_running_ && (!holds || taken_over)) {
    term_running_ = false;
    if (why_stop) LogWarn(why_stop, {{"lease", options_.name}, {"holder", options_.holder}});
    lost_();
  }
  if (!term_running_ && holds && renewal && steady_clock::now() >= next_start_try_) {
    LeaseGrant grant = *renewal;
    if (taken_from_) {
      grant.from_other = true;
      grant.other_until_ms =
          std::chrono::duration_cast<milliseconds>(taken_from_->until - steady_clock::now())
              .count();
      grant.previous_holder = taken_from_->holder;
    }
    LogInfo("lease taken: this instance runs the import engine",
            {{"lease", options_.name},
             {"holder", options_.holder},
             {"previous_holder", grant.previous_holder},
             {"previous_until_ms", grant.other_until_ms}});
    term_running_ = acquired_(grant);
    if (term_running_) {
      taken_from_.reset();  // kept after a failed start: the previous run counts for the next
      failed_starts_ = 0;
    } else {
      // The first failure hands the lease to another instance; after that this one keeps it
      // (expiry and purge run here) and tries the work again two leases later.
      ++failed_starts_;
      next_start_try_ = steady_clock::now() + 2 * options_.ttl;
      give_up_ = failed_starts_ == 1;
      if (!give_up_) {
        LogWarn("the import engine did not start again: lease kept for expiry and purge",
                {{"lease", options_.name},
                 {"failed_starts", failed_starts_},
                 {"retry_in_ms", (2 * options_.ttl).count()}});
      }
    }
  }
}

std::optional<milliseconds> LeaseKeeper::GiveUpAfterFailedStart() {
  {
    std::lock_guard term(term_mu_);
    if (!give_up_) return std::nullopt;
    give_up_ = false;
  }
  {
    std::lock_guard lock(mu_);
    held_ = false;
  }
  Status released = store_.ReleaseLease(options_.name, options_.holder);
  LogWarn("the import engine did not start here: lease given up for another instance",
          {{"lease", options_.name},
           {"holder", options_.holder},
           {"released", released.ok()},
           {"retry_in_ms", (2 * options_.ttl).count()}});
  return 2 * options_.ttl;
}

std::string RandomInstanceName() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  return std::string(host) + "-" + std::to_string(getpid()) + "-" + RandomToken(6);
}

}  // namespace apm
