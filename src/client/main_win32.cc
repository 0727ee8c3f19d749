// ap.exe: the window by default, the console with --console or --quiet. A console program, so
// it keeps the command prompt of Shift+F10 in OOBE (and its output when redirected).
#include "client/win32_text.h"

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "client/catalogue.h"
#include "client/client_app.h"
#include "client/console_ui.h"
#include "client/options.h"
#include "client/ui_language.h"
#include "client/win32_ui.h"

namespace {

using namespace apm::client;

// UTF-8 output, and ANSI colours when stdout is a console that understands them.
bool SetUpConsole() {
  SetConsoleOutputCP(CP_UTF8);
  SetConsoleCP(CP_UTF8);
  HANDLE out = GetStdHandle(STD_OUTPUT_HANDLE);
  DWORD mode = 0;
  if (out == INVALID_HANDLE_VALUE || !GetConsoleMode(out, &mode)) return false;
  return SetConsoleMode(out, mode | ENABLE_VIRTUAL_TERMINAL_PROCESSING) != 0;
}

bool ReadLine(std::string* line) {
  char buffer[256];
  if (!std::fgets(buffer, sizeof buffer, stdin)) return false;
  line->assign(buffer, std::strcspn(buffer, "\r\n"));
  return true;
}

int RunInConsole(const ClientOptions& options, ClientEnvironment env, bool terminal) {
  ConsoleUiOptions ui_options;
  ui_options.terminal = terminal;
  ui_options.verbose = options.verbose;
  ui_options.quiet = options.quiet;
  if (terminal) ui_options.read_line = &ReadLine;
  ConsoleUi ui(stdout, ui_options);
  env.ui = &ui;
  return RunClient(options, env);
}

}  // namespace

int wmain(int argc, wchar_t** argv) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) args.push_back(Narrow(argv[i]));
  const bool terminal = SetUpConsole();

  apm::Result<ClientOptions> parsed = ParseOptionsInLanguage(args, PreferredUiLanguages());
  if (!parsed.ok()) {
    std::fprintf(stderr, "ap: %s\n%s\n", parsed.status().message().c_str(),
                 Text(Msg::kSeeHelp).c_str());
    return kExitUsage;
  }
  const ClientOptions& options = *parsed;
  if (options.show_help) {
    std::fputs(HelpText().c_str(), stdout);
    return 0;
  }
  if (options.show_version) {
    std::printf("ap %s\n", APM_VERSION);
    return 0;
  }

  auto http = NewSystemHttpClient();
  auto net = NewSystemNetProbe();
  auto hardware = HardwareProbeFor(options);
  auto profile = NewPlatformProfileDetector();
  auto clock = NewSystemDeviceClock();
  auto restarter = NewPlatformRestarter();
  auto system_report = NewPlatformSystemReport();
  ClientEnvironment env{http.get(),  net.get(),       hardware.get(), profile.get(),
                        clock.get(), restarter.get(), nullptr};
  env.system_report = system_report.get();

  if (options.console || options.quiet) return RunInConsole(options, env, terminal);

  apm::Result<std::unique_ptr<Win32Ui>> window = Win32Ui::Create(GetModuleHandleW(nullptr));
  if (!window.ok()) {
    std::fprintf(stderr, "ap: %s\n",
                 Text(Msg::kContinuingInConsole, {window.status().message()}).c_str());
    return RunInConsole(options, env, terminal);
  }
  Win32Ui& ui = **window;
  if (options.verbose) {
    ui.SetLogSink([](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); });
  }
  env.ui = &ui;
  const int code = ui.RunMessageLoop([&] { return static_cast<int>(RunClient(options, env)); });
  if (ui.worker_abandoned()) {
    // The workflow still runs on its thread and uses `env`; end here without unwinding it.
    std::fflush(nullptr);
    ExitProcess(static_cast<UINT>(code));
  }
  return code;
}
