// Hand-written rather than CLI11: CLI11 brings iostreams into ap.exe, about 740 KB of a
// 1 MiB budget (docs/architecture.md).
#include "client/options.h"

#include <algorithm>

#include "client/catalogue.h"

namespace apm::client {
namespace {

struct Flag {
  const char* short_name;  // "" when none
  const char* long_name;
  bool ClientOptions::*field;
  Msg help;
};

struct Value {
  const char* long_name;
  std::string ClientOptions::*field;
  const char* placeholder;
  Msg help;
};

constexpr Flag kFlags[] = {
    {"-h", "--help", &ClientOptions::show_help, Msg::kHelpFlagHelp},
    {"", "--version", &ClientOptions::show_version, Msg::kHelpFlagVersion},
    {"-v", "--verbose", &ClientOptions::verbose, Msg::kHelpFlagVerbose},
    {"-q", "--quiet", &ClientOptions::quiet, Msg::kHelpFlagQuiet},
    {"-s", "--skip-checks", &ClientOptions::skip_checks, Msg::kHelpFlagSkipChecks},
    {"-c", "--check-only", &ClientOptions::check_only, Msg::kHelpFlagCheckOnly},
    {"-i", "--ignore-profile", &ClientOptions::ignore_profile, Msg::kHelpFlagIgnoreProfile},
    {"-n", "--no-wait", &ClientOptions::no_wait, Msg::kHelpFlagNoWait},
    {"-u", "--corporate-identifier", &ClientOptions::corporate_identifier,
     Msg::kHelpFlagCorporateIdentifier},
    {"-e", "--remove-intune-record", &ClientOptions::remove_intune_record,
     Msg::kHelpFlagRemoveIntuneRecord},
    {"", "--reboot", &ClientOptions::reboot, Msg::kHelpFlagReboot},
    {"", "--allow-http", &ClientOptions::allow_http, Msg::kHelpFlagAllowHttp},
    {"", "--console", &ClientOptions::console, Msg::kHelpFlagConsole},
    {"", "--collect-diagnostics", &ClientOptions::collect_diagnostics,
     Msg::kHelpFlagCollectDiagnostics},
};

constexpr Value kValues[] = {
    {"--device-file", &ClientOptions::device_file, "FILE", Msg::kHelpValueDeviceFile},
    {"--oa3-report", &ClientOptions::oa3_report, "FILE", Msg::kHelpValueOa3Report},
    {"--state-dir", &ClientOptions::state_dir, "DIR", Msg::kHelpValueStateDir},
    {"--language", &ClientOptions::language, "TAG", Msg::kHelpValueLanguage},
    {"--diagnostics-folder", &ClientOptions::diagnostics_folder, "DIR",
     Msg::kHelpValueDiagnosticsFolder},
};

struct ExitCodeHelp {
  int code;
  Msg help;
};

constexpr ExitCodeHelp kExitCodeHelp[] = {
    {0, Msg::kHelpExit0},   {2, Msg::kHelpExit2},   {3, Msg::kHelpExit3},   {4, Msg::kHelpExit4},
    {5, Msg::kHelpExit5},   {6, Msg::kHelpExit6},   {7, Msg::kHelpExit7},   {8, Msg::kHelpExit8},
    {9, Msg::kHelpExit9},   {10, Msg::kHelpExit10}, {11, Msg::kHelpExit11}, {12, Msg::kHelpExit12},
    {13, Msg::kHelpExit13}, {14, Msg::kHelpExit14},
};

// The value of --language in `args` ("" when absent).
std::string LanguageArgument(const std::vector<std::string>& args) {
  std::string value;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--language" && i + 1 < args.size()) value = args[i + 1];
    if (args[i].rfind("--language=", 0) == 0) value = args[i].substr(11);
  }
  return value;
}

std::string Join(const std::vector<std::string_view>& parts) {
  std::string joined;
  for (std::string_view part : parts) joined += (joined.empty() ? "" : ", ") + std::string(part);
  return joined;
}

}  // namespace

std::string HelpText() {
  std::string text = Text(Msg::kHelpPurpose) + "\n\n" + Text(Msg::kHelpUsage) + "\n";
  auto line = [&](std::string names, Msg help) {
    names.resize(std::max<size_t>(names.size() + 2, 24), ' ');
    text += "  " + names + Text(help) + "\n";
  };
  line("<server>", Msg::kHelpServerArgument);
  text += "\n" + Text(Msg::kHelpOptions) + "\n";
  for (const Flag& f : kFlags) {
    line(*f.short_name ? std::string(f.short_name) + ", " + f.long_name
                       : std::string("    ") + f.long_name,
         f.help);
  }
  for (const Value& v : kValues) {
    line(std::string("    ") + v.long_name + " " + v.placeholder, v.help);
  }
  text += "\n" + Text(Msg::kHelpExitCodes) + "\n";
  for (const auto& [code, help] : kExitCodeHelp) {
    const std::string number = std::to_string(code);
    text += std::string(number.size() < 2 ? "  " : " ") + number + "  " + Text(help) + "\n";
  }
  text += "\n" + Text(Msg::kHelpExamples) + "\n";
  const std::pair<const char*, Msg> examples[] = {
      {"ap apm.contoso.com", Msg::kHelpExampleRegister},
      {"ap --check-only apm.contoso.com", Msg::kHelpExampleCheckOnly},
      {"ap --oa3-report OA3.xml apm.contoso.com", Msg::kHelpExampleWinPe},
  };
  for (const auto& [command, help] : examples) {
    std::string padded = command;
    padded.resize(42, ' ');
    text += "  " + padded + Text(help) + "\n";
  }
  return text;
}

Result<ClientOptions> ParseOptions(const std::vector<std::string>& args) {
  ClientOptions o;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg.size() < 2 || arg[0] != '-') {
      if (!o.server.empty()) {
        return Status::InvalidArgument(Text(Msg::kErrorOneServerOnly, {o.server, arg}));
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
        if (i + 1 == args.size())
          return Status::InvalidArgument(Text(Msg::kErrorNeedsValue, {name}));
        o.*v.field = args[++i];
        known = true;
      } else if (arg.rfind(name + "=", 0) == 0) {
        o.*v.field = arg.substr(name.size() + 1);
        known = true;
      }
    }
    if (!known) return Status::InvalidArgument(Text(Msg::kErrorUnknownOption, {arg}));
  }
  if (!o.language.empty()) {
    std::string tag = MatchLanguage(o.language);
    if (tag.empty()) {
      return Status::InvalidArgument(
          Text(Msg::kErrorUnknownLanguage, {o.language, Join(SupportedLanguages())}));
    }
    o.language = tag;
  }
  if (o.show_help || o.show_version) return o;
  // The diagnostics need no server (the network may be what is broken).
  if (o.server.empty() && !o.collect_diagnostics) {
    return Status::InvalidArgument(Text(Msg::kErrorServerMissing));
  }
  auto exclusive = [](const char* a, const char* b) {
    return Status::InvalidArgument(Text(Msg::kErrorCannotCombine, {a, b}));
  };
  if (!o.device_file.empty() && !o.oa3_report.empty()) {
    return exclusive("--device-file", "--oa3-report");
  }
  if (o.corporate_identifier && o.remove_intune_record) {
    return exclusive("--corporate-identifier", "--remove-intune-record");
  }
  if (o.check_only && o.skip_checks) return exclusive("--check-only", "--skip-checks");
  if (!o.diagnostics_folder.empty() && !o.collect_diagnostics) {
    return Status::InvalidArgument(
        Text(Msg::kErrorOnlyWith, {"--diagnostics-folder", "--collect-diagnostics"}));
  }
  if (o.collect_diagnostics) {
    // The diagnostics register nothing: options that shape a registration contradict them.
    const std::pair<bool, const char*> registering[] = {
        {o.corporate_identifier, "--corporate-identifier"},
        {o.remove_intune_record, "--remove-intune-record"},
        {o.check_only, "--check-only"},
        {o.no_wait, "--no-wait"},
        {o.reboot, "--reboot"},
    };
    for (const auto& [given, name] : registering) {
      if (given) return exclusive("--collect-diagnostics", name);
    }
  }
  return o;
}

Result<ClientOptions> ParseOptionsInLanguage(const std::vector<std::string>& args,
                                             const std::vector<std::string>& preferred) {
  std::string language = MatchLanguage(LanguageArgument(args));
  SetLanguage(language.empty() ? ChooseLanguage(preferred) : language);
  return ParseOptions(args);
}

}  // namespace apm::client
