#include "client/console_ui.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>

namespace apm::client {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// Captures what a ConsoleUi prints.
struct Captured {
  char* buffer = nullptr;
  size_t size = 0;
  FILE* file = open_memstream(&buffer, &size);
  ~Captured() {
    std::fclose(file);
    std::free(buffer);
  }
  std::string Text() {
    std::fflush(file);
    return std::string(buffer, size);
  }
};

Screen Waiting(const std::string& elapsed) {
  Screen s;
  s.device = {"PF3", "LENOVO", "21R3", "", "test", ""};
  s.request_id = "REQ1";
  s.qr_rows = {"10", "01"};
  s.approval_url = "https://apm.example/autopilot/REQ1";
  s.instruction = "Scan the QR code";
  s.status_line = "Waiting for approval";
  s.elapsed = elapsed;
  return s;
}

TEST(QrToHalfBlocksTest, TwoModuleRowsPerLineWithAQuietZone) {
  std::string qr = QrToHalfBlocks({"10", "01"});
  // 2 modules + 8 quiet = 10 columns, 5 lines; the code sits on lines 2 (rows 4 and 5).
  std::vector<std::string> lines;
  for (size_t start = 0, end; (end = qr.find('\n', start)) != std::string::npos; start = end + 1) {
    lines.push_back(qr.substr(start, end - start));
  }
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[0], std::string(10, ' '));
  EXPECT_EQ(lines[2], "    ▀▄    ");  // dark on top at column 4, dark below at column 5
  EXPECT_EQ(lines[4], std::string(10, ' '));
}

TEST(ConsoleUiTest, PlainLinesWithoutATerminal) {
  Captured out;
  ConsoleUi ui(out.file, {});
  ui.ShowScreen(Waiting("0 s"));
  ui.ShowScreen(Waiting("12 s"));  // only the time changed: no new line
  Screen done = Waiting("");
  done.status_line = "Your device is ready";
  done.tone = Tone::kSuccess;
  done.detail = "Restart the device";
  ui.ShowScreen(done);
  std::string text = out.Text();
  EXPECT_THAT(text, Not(HasSubstr("\033[")));
  EXPECT_THAT(text, HasSubstr("Request id     REQ1"));
  EXPECT_THAT(text, HasSubstr("https://apm.example/autopilot/REQ1"));
  EXPECT_EQ(text.find("Waiting for approval"), text.rfind("Waiting for approval"));
  EXPECT_THAT(text, HasSubstr("Your device is ready\nRestart the device\n"));
}

TEST(ConsoleUiTest, TerminalRedrawsTheStatusLineInColour) {
  Captured out;
  ConsoleUiOptions options;
  options.terminal = true;
  ConsoleUi ui(out.file, options);
  ui.ShowScreen(Waiting("0 s"));
  ui.ShowScreen(Waiting("12 s"));
  std::string text = out.Text();
  EXPECT_THAT(text, HasSubstr("\033[30;107m"));  // the QR code, dark on white
  EXPECT_THAT(text, HasSubstr("\r\033[K\033[1;36mWaiting for approval"));
  EXPECT_THAT(text, HasSubstr("12 s"));
}

TEST(ConsoleUiTest, QuietPrintsOnlyTheIdAndTheOutcome) {
  Captured out;
  ConsoleUiOptions options;
  options.quiet = true;
  ConsoleUi ui(out.file, options);
  ui.ShowChecks({{"login.live.com:443", CheckOutcome::kOk, "reachable"}});
  ui.ShowScreen(Waiting("0 s"));
  Screen failed = Waiting("");
  failed.status_line = "The request was rejected";
  failed.tone = Tone::kFailure;
  failed.detail = "not ours";
  ui.ShowScreen(failed);
  EXPECT_EQ(out.Text(), "Request id: REQ1\nThe request was rejected\nnot ours\n");
}

TEST(ConsoleUiTest, AsksOnlyWhenSomeoneCanAnswer) {
  Captured out;
  ConsoleUi silent(out.file, {});
  EXPECT_EQ(silent.AskFinal(true, false, false, std::chrono::seconds(0)), FinalChoice::kClose);
  ConsoleUiOptions options;
  options.read_line = [](std::string* line) {
    *line = "y";
    return true;
  };
  ConsoleUi asking(out.file, options);
  EXPECT_EQ(asking.AskFinal(false, true, true, std::chrono::seconds(0)), FinalChoice::kRetry);
  EXPECT_EQ(asking.AskFinal(true, false, false, std::chrono::seconds(0)), FinalChoice::kRestart);
  EXPECT_THAT(out.Text(), HasSubstr("Restart now? [y/N]"));
}

// After a failure: "no" to trying again, then the diagnostics are offered.
TEST(ConsoleUiTest, OffersDiagnosticsWhenNotTryingAgain) {
  Captured out;
  std::vector<std::string> answers = {"n", "y", "n", "n"};
  ConsoleUiOptions options;
  options.read_line = [&answers](std::string* line) {
    if (answers.empty()) return false;
    *line = answers.front();
    answers.erase(answers.begin());
    return true;
  };
  ConsoleUi ui(out.file, options);
  EXPECT_EQ(ui.AskFinal(false, true, true, std::chrono::seconds(0)),
            FinalChoice::kCollectDiagnostics);
  EXPECT_THAT(out.Text(), HasSubstr("Collect diagnostics for your helpdesk? [y/N]"));
  EXPECT_EQ(ui.AskFinal(false, true, true, std::chrono::seconds(0)), FinalChoice::kClose);
  EXPECT_TRUE(answers.empty());
}

}  // namespace
}  // namespace apm::client
