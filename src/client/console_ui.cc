#include "client/console_ui.h"

#include <thread>

#include "client/catalogue.h"

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

// Columns a terminal gives `text` (UTF-8): two for East Asian wide characters, one otherwise.
size_t DisplayWidth(std::string_view text) {
  size_t width = 0;
  for (size_t i = 0; i < text.size();) {
    const unsigned char lead = static_cast<unsigned char>(text[i]);
    const size_t length = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
    char32_t code = length == 1 ? lead : lead & (0x3F >> (length - 1));
    for (size_t k = 1; k < length && i + k < text.size(); ++k) {
      code = (code << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3F);
    }
    const bool wide = (code >= 0x1100 && code <= 0x115F) || (code >= 0x2E80 && code <= 0xA4CF) ||
                      (code >= 0xAC00 && code <= 0xD7A3) || (code >= 0xF900 && code <= 0xFAFF) ||
                      (code >= 0xFE30 && code <= 0xFE4F) || (code >= 0xFF00 && code <= 0xFF60) ||
                      (code >= 0xFFE0 && code <= 0xFFE6);
    width += wide ? 2 : 1;
    i += length;
  }
  return width;
}

// "  Label    value\n", the values of every label in one column.
std::string FactLine(Msg label, const std::string& value) {
  size_t column = 0;
  for (Msg each :
       {Msg::kLabelManufacturer, Msg::kLabelModel, Msg::kLabelSerialNumber, Msg::kLabelRequestId}) {
    column = std::max(column, DisplayWidth(Text(each)));
  }
  const std::string name = Text(label);
  return "  " + name + std::string(column - DisplayWidth(name) + 2, ' ') + value + "\n";
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
  const std::string heading = Text(Msg::kConsoleChecks);
  std::string text =
      options_.terminal ? std::string(kBold) + heading + kReset + "\n" : heading + "\n";
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
    text += FactLine(Msg::kLabelManufacturer, screen.device.manufacturer);
    text += FactLine(Msg::kLabelModel, screen.device.model);
    text += FactLine(Msg::kLabelSerialNumber, screen.device.serial_number);
  }
  if (!screen.request_id.empty() && new_request) {
    text += options_.quiet ? Text(Msg::kLabelRequestId) + ": " + screen.request_id + "\n"
                           : FactLine(Msg::kLabelRequestId, screen.request_id);
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

FinalChoice ConsoleUi::AskFinal(bool can_restart, bool can_retry, bool can_collect,
                                std::chrono::seconds restart_countdown) {
  if (can_restart && restart_countdown.count() > 0) {
    Write(Text(Msg::kConsoleRestartingIn, {std::to_string(restart_countdown.count())}) + "\n");
    std::this_thread::sleep_for(restart_countdown);
    return FinalChoice::kRestart;
  }
  if (!options_.read_line) return FinalChoice::kClose;
  // One yes-or-no question at a time: restart or retry first, then the diagnostics.
  if ((can_restart || can_retry) && AskYes(can_restart ? Msg::kAskRestart : Msg::kAskRetry)) {
    return can_restart ? FinalChoice::kRestart : FinalChoice::kRetry;
  }
  if (can_collect && AskYes(Msg::kAskCollectDiagnostics)) return FinalChoice::kCollectDiagnostics;
  return FinalChoice::kClose;
}

bool ConsoleUi::AskYes(Msg question) {
  Write(Text(question));
  std::string answer;
  if (!options_.read_line(&answer)) return false;
  // The language's own "yes" letters, and y everywhere.
  const std::string yes_letters = Text(Msg::kYesLetters) + "yY";
  return !answer.empty() && yes_letters.find(answer[0]) != std::string::npos;
}

}  // namespace apm::client
