// ap --collect-diagnostics: what the helpdesk needs, gathered the way a run would, into a zip in
// a folder (docs/client.md#diagnostics).
#include <mutex>

#include "client/catalogue.h"
#include "client/checks.h"
#include "client/client_app.h"
#include "client/file_io.h"
#include "client/resume_state.h"
#include "client/server_url.h"

namespace apm::client {
namespace {

// Passes everything on to the real Ui and keeps the log lines for the bundle.
class LogRecorder : public Ui {
 public:
  explicit LogRecorder(Ui& inner) : inner_(inner) {}
  void ShowChecks(const std::vector<CheckLine>& lines) override { inner_.ShowChecks(lines); }
  void ShowScreen(const Screen& screen) override { inner_.ShowScreen(screen); }
  void Log(const std::string& line) override {
    {
      std::lock_guard lock(mutex_);
      lines_.push_back(line);
    }
    inner_.Log(line);
  }
  FinalChoice AskFinal(bool can_restart, bool can_retry,
                       std::chrono::seconds restart_countdown) override {
    return inner_.AskFinal(can_restart, can_retry, restart_countdown);
  }
  std::vector<std::string> lines() {
    std::lock_guard lock(mutex_);
    return lines_;
  }

 private:
  Ui& inner_;
  std::mutex mutex_;
  std::vector<std::string> lines_;
};

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

ExitCode RunDiagnostics(const ClientOptions& options, const ClientEnvironment& env) {
  LogRecorder ui(*env.ui);
  Screen screen;
  // The device first (quick), so the screen names it while the rest is gathered.
  Result<DeviceFacts> facts = env.hardware->Read();
  if (facts.ok()) screen.device = *facts;
  screen.status_line = Text(Msg::kDiagnosticsCollecting);
  ui.ShowScreen(screen);

  DiagnosticsReport report;
  report.version = APM_VERSION;
  report.language = CurrentLanguage();
  std::string server_url;
  if (!options.server.empty()) {
    // Never the address as typed in the bundle: it may carry a user name or a password.
    Result<std::string> url = NormalizeServerUrl(options.server, options.allow_http);
    if (url.ok()) {
      server_url = *url;
    } else {
      report.server_problem = "see ap --help";
      ui.Log("the server address given is not valid");
    }
  }
  report.server = server_url;
  if (!server_url.empty() && !options.skip_checks) {
    CheckSettings settings;
    settings.server_url = server_url;
    report.checks = RunChecks(settings, *env.net, *env.http, *env.clock).lines;
    ui.ShowChecks(*report.checks);
  }
  if (facts.ok()) {
    report.facts = *facts;
    ui.Log("device facts from " + facts->source);
  } else {
    report.facts_error = facts.status().message();
    ui.Log("device facts: " + report.facts_error);
  }
  report.profile = ProfileText(*env.profile);
  if (facts.ok() && !server_url.empty()) {
    ResumeState resume(options.state_dir.empty() ? DefaultStateDir() : options.state_dir);
    if (std::optional<SavedRequest> saved = resume.Load(server_url, facts->serial_number)) {
      report.request_id = saved->request_id;
    }
  }
  if (env.system_report) report.system = env.system_report->Collect();
  report.log = ui.lines();

  const auto now = env.clock->Now();
  const std::string folder = options.diagnostics_folder;
  const std::string path =
      JoinPath(folder, DiagnosticsFileName(facts.ok() ? facts->serial_number : "", now));
  Result<std::string> zip = DiagnosticsZip(report, now);
  Status written = zip.status();
  if (written.ok() && !folder.empty()) written = MakeDirectories(folder);
  if (written.ok()) written = WriteFileAtomically(path, *zip);

  screen.tone = written.ok() ? Tone::kSuccess : Tone::kFailure;
  screen.status_line = written.ok() ? Text(Msg::kDiagnosticsWritten, {path})
                                    : Text(Msg::kDiagnosticsNotWritten, {path, written.message()});
  ui.ShowScreen(screen);
  ui.AskFinal(false, false, std::chrono::seconds(0));
  return written.ok() ? kExitCompleted : kExitDiagnosticsFailed;
}

}  // namespace apm::client
