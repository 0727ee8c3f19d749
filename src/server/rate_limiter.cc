#include "server/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace apm {

RateLimiter::RateLimiter(const Clock& clock, double tokens_per_minute, double burst)
    : clock_(clock), per_ms_(tokens_per_minute / 60000.0), burst_(burst) {}

void RateLimiter::Refill(Bucket& b, int64_t now) const {
  if (now > b.updated_ms) {
    b.tokens = std::min(burst_, b.tokens + double(now - b.updated_ms) * per_ms_);
    b.updated_ms = now;
  }
}

std::optional<int64_t> RateLimiter::Take(const std::string& key) {
  int64_t now = clock_.NowMs();
  std::lock_guard lock(mu_);
  auto [it, inserted] = buckets_.try_emplace(key, Bucket{burst_, now});
  Bucket& b = it->second;
  Refill(b, now);
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return std::nullopt;
  }
  double wait_ms = (1.0 - b.tokens) / per_ms_;
  return std::max<int64_t>(1, int64_t(std::ceil(wait_ms / 1000.0)));
}

size_t RateLimiter::Sweep() {
  int64_t now = clock_.NowMs();
  std::lock_guard lock(mu_);
  size_t removed = 0;
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    Refill(it->second, now);
    if (it->second.tokens >= burst_) {
      it = buckets_.erase(it);
      ++removed;
    } else {
      ++it;
    }
  }
  return removed;
}

}  // namespace apm
