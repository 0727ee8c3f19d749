// Hand-written rather than CLI11: CLI11 brings iostreams into ap.exe, about 740 KB of a
// 1 MiB budget (docs/architecture.md).
#include "client/options.h"

#include <algorithm>

namespace apm::client {
namespace {

struct Flag {
  const char* short_name;  // "" when none
  const char* long_name;
  bool ClientOptions::*field;
  const char* help;
};

struct Value {
  const char* long_name;
  std::string ClientOptions::*field;
  const char* placeholder;
  const char* help;
};

constexpr Flag kFlags[] = {
    {"-h", "--help", &ClientOptions::show_help, "Show this help"},
    {"", "--version", &ClientOptions::show_version, "Show the version"},
    {"-v", "--verbose", &ClientOptions::verbose, "Show every check, request and answer"},
    {"-q", "--quiet", &ClientOptions::quiet, "No window; print only the outcome"},
    {"-s", "--skip-checks", &ClientOptions::skip_checks, "Skip the clock and network checks"},
    {"-c", "--check-only", &ClientOptions::check_only,
     "Run only the checks (exit code 3 if one fails)"},
    {"-i", "--ignore-profile", &ClientOptions::ignore_profile,
     "Go on even if the device already has an Autopilot profile"},
    {"-n", "--no-wait", &ClientOptions::no_wait, "Submit and exit without following the request"},
    {"-u", "--corporate-identifier", &ClientOptions::corporate_identifier,
     "Register this device for Autopilot device preparation by manufacturer, model and serial "
     "(no hardware hash)"},
    {"-e", "--remove-intune-record", &ClientOptions::remove_intune_record,
     "Ask the helpdesk to remove this device's Intune record so it can enroll again"},
    {"", "--reboot", &ClientOptions::reboot, "Restart by itself (after a countdown) when done"},
    {"", "--allow-http", &ClientOptions::allow_http, "Allow a plain http:// server (labs only)"},
    {"", "--console", &ClientOptions::console, "Windows: use the console instead of a window"},
};

constexpr Value kValues[] = {
    {"--device-file", &ClientOptions::device_file, "FILE",
     "Read serial, manufacturer, model and hash from a JSON file"},
    {"--oa3-report", &ClientOptions::oa3_report, "FILE",
     "Read the hash from an OA3Tool report (OA3.xml), for WinPE"},
    {"--state-dir", &ClientOptions::state_dir, "DIR", "Where the request id is kept between runs"},
};

constexpr char kUsage[] =
    "Registers this device in Windows Autopilot through an Autopilot Manager server.\n\n"
    "Usage: ap [options] <server>\n"
    "  <server>              the Autopilot Manager server (https:// is assumed)\n\n"
    "Options:\n";

constexpr char kExitCodes[] = R"(
Exit codes:
  0  the device is registered and ready (with --no-wait: submitted; with --check-only: checks passed)
  2  bad command line
  3  --check-only: a check failed
  4  the device already has an Autopilot profile (use --ignore-profile to go on)
  5  the serial number or the hardware hash could not be read, or the hash contradicts the device
  6  not allowed: the device's manufacturer or model is not on the list
  7  the server could not be reached or gave an answer the client does not understand
  8  an approver rejected the request
  9  nobody approved the request in time
 10  Autopilot: already registered (806)
 11  Autopilot: registered to another organisation (808)
 12  the import failed for another reason (the message says which)
 13  the window was closed before the end

Examples:
  ap apm.contoso.com                        register this device (https is assumed)
  ap --check-only apm.contoso.com           only check the clock and the network
  ap --oa3-report OA3.xml apm.contoso.com   in WinPE, with the hash from OA3Tool
)";

std::string HelpText() {
  std::string text = kUsage;
  auto line = [&](std::string names, const char* help) {
    names.resize(std::max<size_t>(names.size() + 2, 24), ' ');
    text += "  " + names + help + "\n";
  };
  for (const Flag& f : kFlags) {
    line(*f.short_name ? std::string(f.short_name) + ", " + f.long_name
                       : std::string("    ") + f.long_name,
         f.help);
  }
  for (const Value& v : kValues) {
    line(std::string("    ") + v.long_name + " " + v.placeholder, v.help);
  }
  return text + kExitCodes;
}

}  // namespace

Result<ClientOptions> ParseOptions(const std::vector<std::string>& args) {
  ClientOptions o;
  o.help_text = HelpText();
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.size() < 2 || arg[0] != '-') {
      if (!o.server.empty()) {
        return Status::InvalidArgument("one server only: got \"" + o.server + "\" and \"" + arg +
                                       "\"");
      }
      o.server = arg;
      continue;
    }
    bool known = false;
    for (const Flag& f : kFlags) {
      if (arg == f.short_name || arg == f.long_name) {
        o.*f.field = true;
        known = true;
      }
    }
    for (const Value& v : kValues) {
      std::string name = v.long_name;
      if (arg == name) {
        if (i + 1 == args.size()) return Status::InvalidArgument(name + " needs a value");
        o.*v.field = args[++i];
        known = true;
      } else if (arg.rfind(name + "=", 0) == 0) {
        o.*v.field = arg.substr(name.size() + 1);
        known = true;
      }
    }
    if (!known) return Status::InvalidArgument("unknown option " + arg);
  }
  if (o.show_help || o.show_version) return o;
  if (o.server.empty()) {
    return Status::InvalidArgument("the server is missing: ap <server>, e.g. ap apm.contoso.com");
  }
  if (!o.device_file.empty() && !o.oa3_report.empty()) {
    return Status::InvalidArgument("--device-file and --oa3-report cannot be used together");
  }
  if (o.corporate_identifier && o.remove_intune_record) {
    return Status::InvalidArgument(
        "--corporate-identifier and --remove-intune-record cannot be used together");
  }
  if (o.check_only && o.skip_checks) {
    return Status::InvalidArgument("--check-only and --skip-checks cannot be used together");
  }
  return o;
}

}  // namespace apm::client
