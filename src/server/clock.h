// Wall-clock time behind an interface so expiry and purge can be tested without waiting.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace apm {

struct Clock {
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch.
  virtual int64_t NowMs() const = 0;
};

struct SystemClock : Clock {
  int64_t NowMs() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

// A clock that only moves when told to; for tests.
class ManualClock : public Clock {
 public:
  explicit ManualClock(int64_t now_ms = 1'790'000'000'000) : now_(now_ms) {}
  int64_t NowMs() const override { return now_.load(); }
  void Advance(std::chrono::milliseconds d) { now_ += d.count(); }
  void Set(int64_t now_ms) { now_ = now_ms; }

 private:
  std::atomic<int64_t> now_;
};

// RFC 3339 UTC text with milliseconds, e.g. 2026-11-27T08:00:00.000Z.
std::string FormatTimestamp(int64_t ms);
// The ms of an RFC 3339 UTC time as Graph writes them ("2027-05-29T09:45:00Z", a fraction of
// any length, "Z" or "+00:00"); nullopt for anything else.
std::optional<int64_t> ParseTimestamp(std::string_view text);

}  // namespace apm
