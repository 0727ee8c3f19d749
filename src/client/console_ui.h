// The console face of the client: a checklist, the QR code in Unicode half blocks, and the
// steps in colour (ANSI) on a terminal; plain lines when the output is not a terminal.
#pragma once

#include <cstdio>
#include <functional>
#include <mutex>
#include <string>

#include "client/catalogue.h"
#include "client/ui.h"

namespace apm::client {

struct ConsoleUiOptions {
  bool terminal = false;  // colours, half-block QR, redraw of the status line
  bool verbose = false;   // Log() lines are printed
  bool quiet = false;     // only the outcome
  // Reads one answer line at the end (nullptr: nobody to ask, e.g. no terminal).
  std::function<bool(std::string*)> read_line;
};

class ConsoleUi : public Ui {
 public:
  ConsoleUi(std::FILE* out, ConsoleUiOptions options) : out_(out), options_(std::move(options)) {}

  void ShowChecks(const std::vector<CheckLine>& lines) override;
  void ShowScreen(const Screen& screen) override;
  void Log(const std::string& line) override;
  FinalChoice AskFinal(bool can_restart, bool can_retry, bool can_collect,
                       std::chrono::seconds restart_countdown) override;

 private:
  void Write(const std::string& text);
  // Asks `question` and reads a line: whether the answer starts with a yes letter.
  bool AskYes(Msg question);

  std::FILE* out_;
  ConsoleUiOptions options_;
  std::mutex mutex_;  // guards the members below; Ui calls may come from any thread
  Screen last_;       // what is on screen, to print only what changed
  bool shown_any_ = false;
  bool status_open_ = false;  // the status line was drawn without a newline (terminal)
};

// The QR code as text: two module rows per line with half blocks, a 4-module quiet zone.
std::string QrToHalfBlocks(const std::vector<std::string>& rows);

}  // namespace apm::client
