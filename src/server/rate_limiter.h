// Token buckets per client address, for submissions.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "server/clock.h"

namespace apm {

class RateLimiter {
 public:
  RateLimiter(const Clock& clock, double tokens_per_minute, double burst);

  // Takes a token for `key`; when none is left, returns the seconds until one will be.
  std::optional<int64_t> Take(const std::string& key);

  // Forgets buckets that are full again, so idle addresses cost no memory.
  size_t Sweep();

 private:
  struct Bucket {
    double tokens;
    int64_t updated_ms;
  };
  void Refill(Bucket& b, int64_t now) const;

  const Clock& clock_;
  double per_ms_;
  double burst_;
  std::mutex mu_;  // guards buckets_
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace apm
