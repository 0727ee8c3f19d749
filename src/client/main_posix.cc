// ap: the POSIX console twin of ap.exe (labs, tests, Linux-based imaging).
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "client/catalogue.h"
#include "client/client_app.h"
#include "client/console_ui.h"
#include "client/options.h"
#include "client/ui_language.h"

int main(int argc, char** argv) {
  using namespace apm::client;
  std::vector<std::string> args(argv + 1, argv + argc);
  apm::Result<ClientOptions> options = ParseOptionsInLanguage(args, PreferredUiLanguages());
  if (!options.ok()) {
    std::fprintf(stderr, "ap: %s\n%s\n", options.status().message().c_str(),
                 Text(Msg::kSeeHelp).c_str());
    return kExitUsage;
  }
  if (options->show_help) {
    std::fputs(HelpText().c_str(), stdout);
    return 0;
  }
  if (options->show_version) {
    std::printf("ap %s\n", APM_VERSION);
    return 0;
  }
  ConsoleUiOptions ui_options;
  ui_options.terminal =
      isatty(STDOUT_FILENO) && std::getenv("TERM") && std::string(std::getenv("TERM")) != "dumb";
  ui_options.verbose = options->verbose;
  ui_options.quiet = options->quiet;
  if (isatty(STDIN_FILENO)) {
    ui_options.read_line = [](std::string* line) { return bool(std::getline(std::cin, *line)); };
  }
  ConsoleUi ui(stdout, ui_options);
  auto http = NewSystemHttpClient();
  auto net = NewSystemNetProbe();
  auto hardware = HardwareProbeFor(*options);
  auto profile = NewPlatformProfileDetector();
  auto clock = NewSystemDeviceClock();
  auto restarter = NewPlatformRestarter();
  auto system_report = NewPlatformSystemReport();
  ClientEnvironment env{http.get(),      net.get(), hardware.get(), profile.get(), clock.get(),
                        restarter.get(), &ui};
  env.system_report = system_report.get();
  return RunClient(*options, env);
}
