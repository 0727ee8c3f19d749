// What the user sees. The workflow calls these from its own thread; a GUI marshals them.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "client/catalogue.h"
#include "client/hardware_probe.h"
#include "client/messages.h"

namespace apm::client {

struct CheckLine {
  std::string name;  // "Clock (time.windows.com)", "ztd.dds.microsoft.com:443"
  CheckOutcome outcome = CheckOutcome::kOk;
  std::string detail;
};

// Everything the main screen shows; each call replaces the previous picture.
struct Screen {
  std::string title = Text(Msg::kScreenTitle);
  DeviceFacts device;
  std::string request_id;
  std::vector<std::string> qr_rows;  // empty: no QR code (helpdesk mode or before submitting)
  std::string approval_url;          // what the QR code holds
  std::string instruction;           // what the user should do now
  std::string status_line;           // the current step, or the outcome
  std::string elapsed;               // time in the current step ("1 min 05 s"), or ""
  Tone tone = Tone::kWorking;
  std::string detail;  // the reason, for failures
  bool reconnecting = false;
};

struct Rgb {
  unsigned char r, g, b;
};

// Background of the window (and the console's accent) for each tone: the Windows OOBE blue,
// Windows' success green and error red. Tests check these pixels in screenshots.
inline constexpr Rgb kWorkingBackground{0, 66, 117};
inline constexpr Rgb kSuccessBackground{16, 124, 16};
inline constexpr Rgb kFailureBackground{164, 38, 44};

inline constexpr Rgb ToneBackground(Tone tone) {
  return tone == Tone::kSuccess   ? kSuccessBackground
         : tone == Tone::kFailure ? kFailureBackground
                                  : kWorkingBackground;
}

enum class FinalChoice { kClose, kRetry, kRestart, kCollectDiagnostics };

class Ui {
 public:
  virtual ~Ui() = default;
  virtual void ShowChecks(const std::vector<CheckLine>& lines) = 0;
  virtual void ShowScreen(const Screen& screen) = 0;
  // A line for the verbose log (and the console in verbose mode).
  virtual void Log(const std::string& line) = 0;
  // Waits for the user at the end: Restart when `can_restart`, Retry when `can_retry`, Collect
  // diagnostics when `can_collect` (a failure). With `restart_countdown` > 0, restarts by itself
  // when the countdown ends.
  virtual FinalChoice AskFinal(bool can_restart, bool can_retry, bool can_collect,
                               std::chrono::seconds restart_countdown) = 0;
};

}  // namespace apm::client
