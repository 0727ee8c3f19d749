#include "client/options.h"

#include <CLI/CLI.hpp>
#include <algorithm>

namespace apm::client {
namespace {

constexpr char kExitCodes[] = R"(Exit codes:
  0  the device is registered and ready (with --no-wait: submitted; with --check-only: checks passed)
  2  bad command line
  3  --check-only: a check failed
  4  the device already has an Autopilot profile (use --ignore-profile to go on)
  5  the serial number or the hardware hash could not be read
  6  not allowed: the device's manufacturer or model is not on the list, or its hash contradicts it
  7  the server could not be reached or gave an answer the client does not understand
  8  an approver rejected the request
  9  nobody approved the request in time
 10  Autopilot: already registered (806)
 11  Autopilot: registered to another organisation (808)
 12  the import failed for another reason (the message says which)
 13  the window was closed before the end

Examples:
  ap apm.contoso.com                 register this device (https is assumed)
  ap --check-only apm.contoso.com    only check the clock and the network
  ap --oa3-report OA3.xml apm.contoso.com   in WinPE, with the hash from OA3Tool)";

}  // namespace

Result<ClientOptions> ParseOptions(const std::vector<std::string>& args) {
  ClientOptions o;
  CLI::App app{"Registers this device in Windows Autopilot through an Autopilot Manager server.",
               "ap"};
  app.set_help_flag();  // handled below, so parsing never prints or exits
  app.footer(kExitCodes);
  app.add_option("server", o.server, "The Autopilot Manager server (https:// is assumed)");
  app.add_flag("-h,--help", o.show_help, "Show this help");
  app.add_flag("--version", o.show_version, "Show the version");
  app.add_flag("-v,--verbose", o.verbose, "Show every check, request and answer");
  app.add_flag("-q,--quiet", o.quiet, "No window; print only the outcome");
  app.add_flag("-s,--skip-checks", o.skip_checks, "Skip the clock and network checks");
  app.add_flag("-c,--check-only", o.check_only, "Run only the checks (exit code 3 if one fails)");
  app.add_flag("-i,--ignore-profile", o.ignore_profile,
               "Go on even if the device already has an Autopilot profile");
  app.add_flag("-n,--no-wait", o.no_wait, "Submit and exit without following the request");
  app.add_flag("--reboot", o.reboot, "Restart by itself (after a countdown) when done");
  app.add_flag("--allow-http", o.allow_http, "Allow a plain http:// server (labs only)");
  app.add_flag("--console", o.console, "Windows: use the console instead of a window");
  app.add_option("--device-file", o.device_file,
                 "Read serial, manufacturer, model and hash from a JSON file");
  app.add_option("--oa3-report", o.oa3_report,
                 "Read the hash from an OA3Tool report (OA3.xml), for WinPE");
  app.add_option("--state-dir", o.state_dir, "Where the request id is kept between runs");
  o.help_text = app.help();

  std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 wants them reversed
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& e) {
    return Status::InvalidArgument(e.what());
  }
  if (o.show_help || o.show_version) return o;
  if (o.server.empty()) {
    return Status::InvalidArgument("the server is missing: ap <server>, e.g. ap apm.contoso.com");
  }
  if (!o.device_file.empty() && !o.oa3_report.empty()) {
    return Status::InvalidArgument("--device-file and --oa3-report cannot be used together");
  }
  if (o.check_only && o.skip_checks) {
    return Status::InvalidArgument("--check-only and --skip-checks cannot be used together");
  }
  return o;
}

}  // namespace apm::client
