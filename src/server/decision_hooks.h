// The original's Azure Functions hooks (AzureFunctionsUrl, Use…Function): a customer's functions
// validate a request, propose its group tag and approve it automatically. The URLs, header and
// body are the original's, so existing functions work unchanged; unlike the original, every
// call has a deadline and a call that gets no usable answer is an outcome, not an error page.
#pragma once

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "server/config.h"
#include "server/http/outbound_http.h"

namespace apm {

enum class DecisionHook { kValidate, kGroupTag, kAutoApproval };
// The function's name in its URL: "validate", "grouptag", "autoapproval".
std::string_view DecisionHookName(DecisionHook hook);

// The device as the original's SystemInformation carried it to the functions.
struct HookDevice {
  std::string id;  // a GUID (HookRequestGuid)
  std::string serial_number;
  std::string hardware_hash;  // "" for a corporate identifier
  std::string manufacturer;
  std::string model;
  std::optional<std::string> group_tag;  // null until the grouptag function proposed one
  std::string action;                    // IMPORT, DELETE or BYPASS
  int64_t request_time_ms = 0;
};

// The body, as the original's Newtonsoft serialisation wrote it: PascalCase keys in its order,
// nulls kept, RequestTime as "MM/dd/yyyy HH:mm:ss" (UTC, an App Service's local time).
std::string HookBody(const HookDevice& device);

// The GUID functions see as Id: an old client's own id, else one derived from ours (stable for
// the request, a version-8 UUID of the id's first 16 bytes).
std::string HookRequestGuid(const std::string& request_id);

struct HookAnswer {
  enum class Kind {
    kYes,     // validate, autoapproval: "true"; grouptag: any 2xx (text is the tag, maybe "")
    kNo,      // a 2xx answer other than "true"; text is what it said
    kFailed,  // no answer in time, no connection, or a status other than 2xx; text says which
  };
  Kind kind = Kind::kFailed;
  std::string text;
  int status = 0;  // the HTTP status, 0 without an answer
};

// The answer's text as the original read it: blanks, then quotes, then blanks trimmed.
std::string HookAnswerText(std::string_view body);

class DecisionHooks {
 public:
  DecisionHooks(const Config& config, OutboundHttp& http);

  bool enabled(DecisionHook hook) const;
  // Whether a function that gives no answer refuses the request (else it waits for a person).
  bool refuse_on_failure() const { return config_.FunctionFailurePolicy == "refuse"; }
  // Calls `hook` about `device`; a call still unanswered at `deadline` has failed.
  HookAnswer Call(DecisionHook hook, const HookDevice& device,
                  std::chrono::steady_clock::time_point deadline) const;

  // Calls at once at most: each holds a thread of the request pool for up to its deadline, so a
  // slow function must not take the pool the pages and status polls need.
  static constexpr int kMaxCallsInFlight = 12;

 private:
  const Config& config_;
  OutboundHttp& http_;
  mutable std::atomic<int> in_flight_{0};
};

// All calls of one submission end within this, below the 30 s the ap client waits for an answer.
inline constexpr std::chrono::seconds kHookBudgetPerSubmission{25};

// The settings' checks, for ValidateConfig.
Status ValidateDecisionHookSettings(const Config& config);

}  // namespace apm
