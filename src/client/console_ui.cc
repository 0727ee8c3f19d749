#include "client/console_ui.h"

#include <thread>

namespace apm::client {
namespace {

constexpr char kReset[] = "\033[0m";
constexpr char kBold[] = "\033[1m";
constexpr char kDim[] = "\033[2m";
constexpr char kClearLine[] = "\r\033[K";

const char* ToneColor(Tone tone) {
  switch (tone) {
    case Tone::kSuccess:
      return "\033[1;32m";
    case Tone::kFailure:
      return "\033[1;31m";
    case Tone::kWorking:
      break;
  }
  return "\033[1;36m";
}

const char* CheckMark(CheckOutcome outcome, bool terminal) {
  switch (outcome) {
    case CheckOutcome::kOk:
      return terminal ? "\033[32m✔\033[0m" : "[ok]  ";
    case CheckOutcome::kWarning:
      return terminal ? "\033[33m!\033[0m" : "[warn]";
    case CheckOutcome::kFailed:
      break;
  }
  return terminal ? "\033[31m✘\033[0m" : "[FAIL]";
}

}  // namespace

std::string QrToHalfBlocks(const std::vector<std::string>& rows) {
  constexpr int kQuiet = 4;
  const int size = int(rows.size());
  auto dark = [&](int r, int c) {
    r -= kQuiet;
    c -= kQuiet;
    return r >= 0 && c >= 0 && r < size && c < size && rows[r][c] == '1';
  };
  std::string out;
  const int total = size + 2 * kQuiet;
  for (int r = 0; r < total; r += 2) {
    for (int c = 0; c < total; ++c) {
      bool top = dark(r, c), bottom = r + 1 < total && dark(r + 1, c);
      out += top && bottom ? "█" : top ? "▀" : bottom ? "▄" : " ";
    }
    out += '\n';
  }
  return out;
}

void ConsoleUi::Write(const std::string& text) {
  std::fputs(text.c_str(), out_);
  std::fflush(out_);
}

void ConsoleUi::ShowChecks(const std::vector<CheckLine>& lines) {
  std::lock_guard lock(mutex_);
  if (options_.quiet) {
    for (const CheckLine& line : lines) {
      if (line.outcome == CheckOutcome::kFailed) Write(line.name + ": " + line.detail + "\n");
    }
    return;
  }
  std::string text = options_.terminal ? std::string(kBold) + "Checks" + kReset + "\n" : "Checks\n";
  for (const CheckLine& line : lines) {
    text += "  " + std::string(CheckMark(line.outcome, options_.terminal)) + " " + line.name;
    if (line.outcome != CheckOutcome::kOk || options_.verbose) text += ": " + line.detail;
    text += "\n";
  }
  Write(text);
}

void ConsoleUi::ShowScreen(const Screen& screen) {
  std::lock_guard lock(mutex_);
  const bool t = options_.terminal;
  std::string text;
  if (status_open_) {
    text += kClearLine;  // the status line is redrawn in place
    status_open_ = false;
  }
  bool new_request = screen.request_id != last_.request_id;
  if (!options_.quiet &&
      (!shown_any_ || screen.device.serial_number != last_.device.serial_number)) {
    text += "\n" + (t ? std::string(kBold) : "") + screen.title + (t ? kReset : "") + "\n";
    text += "  Manufacturer  " + screen.device.manufacturer + "\n";
    text += "  Model         " + screen.device.model + "\n";
    text += "  Serial        " + screen.device.serial_number + "\n";
  }
  if (!screen.request_id.empty() && new_request) {
    text += (options_.quiet ? "Request id: " : "  Request id    ") + screen.request_id + "\n";
    if (!options_.quiet && !screen.qr_rows.empty()) {
      std::string qr = QrToHalfBlocks(screen.qr_rows);
      if (t) {
        // Dark modules on a white field, whatever the terminal's own colours are.
        std::string framed;
        size_t start = 0;
        for (size_t end; (end = qr.find('\n', start)) != std::string::npos; start = end + 1) {
          framed += "  \033[30;107m" + qr.substr(start, end - start) + kReset + "\n";
        }
        qr = framed;
      }
      text += "\n" + qr;
    }
    if (!options_.quiet && !screen.approval_url.empty()) {
      text += "  " + screen.approval_url + "\n";
    }
  }
  if (!options_.quiet && !screen.instruction.empty() &&
      (screen.instruction != last_.instruction || new_request)) {
    text += "\n" + screen.instruction + "\n";
  }
  bool status_changed = screen.status_line != last_.status_line || screen.tone != last_.tone ||
                        screen.reconnecting != last_.reconnecting || new_request;
  bool final_tone = screen.tone != Tone::kWorking;
  if (!options_.quiet || final_tone) {
    std::string status = screen.status_line;
    if (screen.reconnecting) status += " - " + screen.detail;
    if (t && !final_tone) {
      // One line redrawn in place with the elapsed time.
      text += std::string(ToneColor(screen.tone)) + status + kReset;
      if (!screen.elapsed.empty()) text += std::string(kDim) + "  " + screen.elapsed + kReset;
      status_open_ = true;
    } else if (status_changed) {
      std::string color = t ? ToneColor(screen.tone) : "";
      text += color + status + (t ? kReset : "") + "\n";
      if (final_tone && !screen.detail.empty()) text += screen.detail + "\n";
    }
  }
  last_ = screen;
  shown_any_ = true;
  Write(text);
}

void ConsoleUi::Log(const std::string& line) {
  if (!options_.verbose) return;
  std::lock_guard lock(mutex_);
  std::string text = status_open_ ? kClearLine : "";
  status_open_ = false;
  text +=
      options_.terminal ? std::string(kDim) + "  · " + line + kReset + "\n" : "  . " + line + "\n";
  Write(text);
}

FinalChoice ConsoleUi::AskFinal(bool can_restart, bool can_retry,
                                std::chrono::seconds restart_countdown) {
  if (can_restart && restart_countdown.count() > 0) {
    Write("Restarting in " + std::to_string(restart_countdown.count()) + " s (Ctrl+C to stop)\n");
    std::this_thread::sleep_for(restart_countdown);
    return FinalChoice::kRestart;
  }
  if (!options_.read_line || (!can_restart && !can_retry)) return FinalChoice::kClose;
  std::string prompt = can_restart ? "Restart now? [y/N] " : "Try again? [y/N] ";
  Write(prompt);
  std::string answer;
  if (!options_.read_line(&answer)) return FinalChoice::kClose;
  bool yes = !answer.empty() && (answer[0] == 'y' || answer[0] == 'Y');
  if (!yes) return FinalChoice::kClose;
  return can_restart ? FinalChoice::kRestart : FinalChoice::kRetry;
}

}  // namespace apm::client
