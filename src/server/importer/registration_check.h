// What the tenant already holds for a device's serial: the Autopilot registrations whose whole
// serial matches, with their Intune managed devices. A request keeps this for its approver, who
// decides between re-registering, updating the registration, or rejecting; the repair job reads
// it again before it deletes anything (docs/operations.md, "Repairs").
#pragma once

#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "server/clock.h"
#include "server/graph/graph_api.h"
#include "server/store/request_store.h"

namespace apm {

struct FoundRegistration {
  AutopilotDevice device;
  std::optional<ManagedDevice> managed;  // nullopt: not enrolled in Intune (or already gone)
};

struct RegistrationCheck {
  int64_t checked_at = 0;  // ms since the epoch; 0: never looked up
  std::vector<FoundRegistration> found;
  std::string error;  // the lookup gave up: what Graph said
};

// As StoredRequest::registration keeps it; parsing "" (or anything unreadable) gives a check
// with checked_at 0.
std::string RegistrationCheckJson(const RegistrationCheck& check);
RegistrationCheck ParseRegistrationCheck(std::string_view text);

// Looks the serial up: exact matches only, each with its managed device.
Result<RegistrationCheck> CheckRegistration(GraphApi& graph, const std::string& serial,
                                            int64_t now_ms);

// Looks up the registration of every pending request that has none yet, on a thread of its own,
// through the same GraphApi (so the same budget and $batch) as the imports.
class RegistrationChecker {
 public:
  RegistrationChecker(RequestStore& store, GraphApi& graph, const Clock& clock);
  ~RegistrationChecker();

  // One pass over up to `limit` requests; returns how many it saved.
  int RunOnce(int limit = 20);
  void Start();
  void Stop();

  // A lookup that fails is tried again after this long, and saved with its error after
  // kMaxTries failures (the approver then sees that it could not be checked).
  static constexpr int64_t kRetryMs = 30'000;
  static constexpr int kMaxTries = 5;

 private:
  struct Retry {
    int tries = 0;
    int64_t next_ms = 0;
  };

  RequestStore& store_;
  GraphApi& graph_;
  const Clock& clock_;
  std::map<std::string, Retry> retries_;  // by request id; only the checker's thread uses it
  std::mutex mu_;                         // guards stopping_ (with cv_)
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace apm
