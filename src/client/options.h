// The command line of ap / ap.exe (ap --help; docs/client.md).
#pragma once

#include <string>
#include <vector>

#include "core/status.h"

namespace apm::client {

struct ClientOptions {
  std::string server;  // as typed; see NormalizeServerUrl
  bool allow_http = false;
  bool skip_checks = false;
  bool check_only = false;
  bool ignore_profile = false;
  bool no_wait = false;
  bool quiet = false;
  bool verbose = false;
  bool reboot = false;                // restart by itself after a countdown when done
  bool console = false;               // Windows: console output instead of the window
  bool remove_intune_record = false;  // ask for the Intune record to be removed (-e)
  bool corporate_identifier = false;  // APv2: send manufacturer, model, serial, no hash (-u)
  bool collect_diagnostics = false;   // write the helpdesk's zip instead of registering
  std::string diagnostics_folder;     // where that zip goes; empty: the current directory
  std::string device_file;
  std::string oa3_report;
  std::string state_dir;  // empty: DefaultStateDir()
  std::string language;   // --language, as the supported tag it names; empty: the system's
  // Not options: what to do instead of running.
  bool show_help = false;
  bool show_version = false;
};

// `args` without the program name. Errors name the option or argument that was wrong.
Result<ClientOptions> ParseOptions(const std::vector<std::string>& args);

// Sets the language (--language in `args`, else the first supported of `preferred`, the
// system's; else English), then ParseOptions: its errors and HelpText() are in that language.
Result<ClientOptions> ParseOptionsInLanguage(const std::vector<std::string>& args,
                                             const std::vector<std::string>& preferred);

// ap --help, in the current language.
std::string HelpText();

}  // namespace apm::client
