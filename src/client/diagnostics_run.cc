// The helpdesk's bundle, gathered the way a run would (docs/client.md#diagnostics): by
// `ap --collect-diagnostics`, or from the red screen's button. It goes to the device's request
// on the server when there is one; to a folder (a USB stick) when it cannot, or when asked.
#include "client/catalogue.h"
#include "client/checks.h"
#include "client/client_app.h"
#include "client/file_io.h"
#include "client/resume_state.h"
#include "client/server_api.h"
#include "client/server_url.h"

namespace apm::client {
namespace {

std::string ProfileText(ProfileDetector& detector) {
  Result<std::optional<ExistingProfile>> profile = detector.Detect();
  if (!profile.ok()) return "unknown: " + profile.status().message();
  if (!profile->has_value()) return "none";
  const ExistingProfile& existing = **profile;
  return "assigned to " + (existing.tenant_domain.empty()
                               ? existing.tenant_id
                               : existing.tenant_domain + " (" + existing.tenant_id + ")");
}

std::string JoinPath(const std::string& folder, const std::string& name) {
  if (folder.empty()) return name;
  const char last = folder.back();
  return folder + (last == '/' || last == '\\' ? "" : "/") + name;
}

}  // namespace

void LogRecorder::Log(const std::string& line) {
  {
    std::lock_guard lock(mutex_);
    lines_.push_back(line);
  }
  inner_.Log(line);
}

std::vector<std::string> LogRecorder::lines() const {
  std::lock_guard lock(mutex_);
  return lines_;
}

DiagnosticsOutcome CollectDiagnostics(const DiagnosticsStart& start, const ClientOptions& options,
                                      const ClientEnvironment& env) {
  DiagnosticsReport report;
  report.version = APM_VERSION;
  report.language = CurrentLanguage();
  report.server = start.server_url;
  report.server_problem = start.server_problem;
  report.request_id = start.request_id;
  report.checks = start.checks;
  report.facts = start.facts;
  report.facts_error = start.facts_error;
  report.profile = ProfileText(*env.profile);
  if (env.system_report) report.system = env.system_report->Collect();
  report.log = start.log;

  const auto now = env.clock->Now();
  const std::string name = DiagnosticsFileName(start.facts ? start.facts->serial_number : "", now);
  DiagnosticsOutcome outcome;
  Result<std::string> zip = DiagnosticsZip(report, now);
  if (!zip.ok()) {
    outcome.message = Text(Msg::kDiagnosticsNotWritten, {name, zip.status().message()});
    return outcome;
  }
  std::string not_sent;
  if (!start.server_url.empty() && !start.request_id.empty()) {
    ServerApi api(*env.http, start.server_url, APM_VERSION);
    Result<int64_t> number = api.UploadDiagnostics(start.request_id, name, *zip);
    outcome.sent = number.ok();
    if (number.ok()) {
      env.ui->Log("diagnostics sent to request " + start.request_id + " (bundle " +
                  std::to_string(*number) + ", " + std::to_string(zip->size()) + " bytes)");
    } else {
      not_sent = Text(Msg::kDiagnosticsNotSent, {number.status().message()});
      env.ui->Log("diagnostics not sent: " + number.status().message());
    }
  }
  // A folder given is written to as well; without one, the current folder when not sent.
  const std::string& folder = options.diagnostics_folder;
  if (!outcome.sent || !folder.empty()) {
    const std::string path = JoinPath(folder, name);
    Status written = folder.empty() ? Status::Ok() : MakeDirectories(folder);
    if (written.ok()) written = WriteFileAtomically(path, *zip);
    const std::string said = written.ok()
                                 ? Text(Msg::kDiagnosticsWritten, {path})
                                 : Text(Msg::kDiagnosticsNotWritten, {path, written.message()});
    if (written.ok()) outcome.path = path;
    outcome.message = outcome.sent ? Text(Msg::kDiagnosticsSent, {start.request_id}) + " " + said
                                   : (not_sent.empty() ? said : not_sent + " " + said);
    return outcome;
  }
  outcome.message = Text(Msg::kDiagnosticsSent, {start.request_id});
  return outcome;
}

ExitCode RunDiagnostics(const ClientOptions& options, const ClientEnvironment& env) {
  LogRecorder ui(*env.ui);
  ClientEnvironment recorded = env;
  recorded.ui = &ui;
  Screen screen;
  // The device first (quick), so the screen names it while the rest is gathered.
  Result<DeviceFacts> facts = env.hardware->Read();
  if (facts.ok()) screen.device = *facts;
  screen.status_line = Text(Msg::kDiagnosticsCollecting);
  ui.ShowScreen(screen);

  DiagnosticsStart start;
  if (!options.server.empty()) {
    // Never the address as typed in the bundle: it may carry a user name or a password.
    Result<std::string> url = NormalizeServerUrl(options.server, options.allow_http);
    if (url.ok()) {
      // Where a run would have gone (and saved its request under): after the server's redirects.
      Result<std::string> resolved = ResolveServerUrl(*env.http, *url, options.allow_http);
      start.server_url = resolved.ok() ? *resolved : *url;
    } else {
      start.server_problem = "see ap --help";
      ui.Log("the server address given is not valid");
    }
  }
  if (!start.server_url.empty() && !options.skip_checks) {
    CheckSettings settings;
    settings.server_url = start.server_url;
    start.checks = RunChecks(settings, *env.net, *env.http, *env.clock).lines;
    ui.ShowChecks(*start.checks);
  }
  if (facts.ok()) {
    start.facts = *facts;
    ui.Log("device facts from " + facts->source);
  } else {
    start.facts_error = facts.status().message();
    ui.Log("device facts: " + start.facts_error);
  }
  if (facts.ok() && !start.server_url.empty()) {
    // The device's last request there, ended or not: a failed one is what the helpdesk looks at.
    ResumeState resume(options.state_dir.empty() ? DefaultStateDir() : options.state_dir);
    if (std::optional<SavedRequest> saved =
            resume.LoadLast(start.server_url, facts->serial_number)) {
      start.request_id = saved->request_id;
    }
  }
  start.log = ui.lines();
  const DiagnosticsOutcome outcome = CollectDiagnostics(start, options, recorded);

  screen.tone = outcome.delivered() ? Tone::kSuccess : Tone::kFailure;
  screen.status_line = outcome.message;
  ui.ShowScreen(screen);
  ui.AskFinal(false, false, false, std::chrono::seconds(0));
  return outcome.delivered() ? kExitCompleted : kExitDiagnosticsFailed;
}

}  // namespace apm::client
