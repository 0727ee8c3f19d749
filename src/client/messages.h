// Plain words for states, errors and check results, and the exit codes (docs/client.md).
#pragma once

#include <string>

#include "core/request_state.h"

namespace apm::client {

struct RequestStatus;

enum class CheckOutcome { kOk, kWarning, kFailed };

// The colour of the screen: blue while working, green when done, red when not.
enum class Tone { kWorking, kSuccess, kFailure };

enum ExitCode : int {
  kExitCompleted = 0,           // registered and ready (or: submitted, with --no-wait; checks fine)
  kExitUsage = 2,               // bad command line
  kExitChecksFailed = 3,        // --check-only and a check failed
  kExitHasProfile = 4,          // the device already has an Autopilot profile
  kExitDeviceUnreadable = 5,    // serial or hash could not be read
  kExitNotAllowed = 6,          // the allow-list or hash verification refused the device
  kExitServerError = 7,         // the server could not be reached or answered nonsense
  kExitRejected = 8,            // an approver rejected the request
  kExitExpired = 9,             // nobody approved it in time
  kExitAlreadyRegistered = 10,  // Autopilot: 806, already registered (in this tenant)
  kExitOtherTenant = 11,        // Autopilot: 808, registered in another organisation
  kExitImportFailed = 12,       // any other import failure
  kExitCancelled = 13,          // the user closed the window before the end
  kExitDiagnosticsFailed = 14,  // --collect-diagnostics could not write its zip
};

struct StatusMessage {
  std::string headline;  // one line, e.g. "Your device is ready"
  std::string detail;    // what it means and what to do
  Tone tone = Tone::kWorking;
  ExitCode exit_code = kExitCompleted;
};

// The words for a request's current state (terminal or not).
StatusMessage DescribeRequest(const RequestStatus& status);

// " (words)" after our sentence: the server's or the system's own (technical, English) words;
// "" when there are none.
std::string InParentheses(const std::string& words);

// "1 min 05 s", "42 s", "1 h 02 min".
std::string FormatElapsed(long long seconds);

}  // namespace apm::client
