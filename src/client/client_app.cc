#include "client/client_app.h"

#include <algorithm>

#include "client/catalogue.h"
#include "client/checks.h"
#include "client/resume_state.h"
#include "client/server_api.h"
#include "client/server_url.h"
#include "core/base64.h"
#include "core/validation.h"

namespace apm::client {
namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;
using std::chrono::seconds;

// Logs each exchange for --verbose: method, URL, status and size; never a body (the hash).
class LoggingHttpClient : public HttpClient {
 public:
  LoggingHttpClient(HttpClient& inner, Ui& ui) : inner_(inner), ui_(ui) {}
  Result<HttpResponse> Send(const HttpRequest& request) override {
    ui_.Log("-> " + request.method + " " + request.url);
    Result<HttpResponse> answer = inner_.Send(request);
    if (!answer.ok()) {
      ui_.Log("<- " + request.url + ": " + answer.status().message());
    } else {
      ui_.Log("<- HTTP " + std::to_string(answer->status) + " (" +
              std::to_string(answer->body.size()) + " bytes)");
    }
    return answer;
  }

 private:
  HttpClient& inner_;
  Ui& ui_;
};

// The catalogue's words for the server's refusal codes that mean "this device may not".
std::optional<Msg> NotAllowedReason(const std::string& code) {
  if (code == "manufacturer_not_allowed") return Msg::kManufacturerNotAllowed;
  if (code == "model_not_allowed") return Msg::kModelNotAllowed;
  if (code == "hash_mismatch") return Msg::kHashMismatchRefused;
  if (code == "device_not_allowed") return Msg::kNotAllowedDetail;
  return std::nullopt;
}

class Run {
 public:
  // `env.ui` is `log`, which keeps the run's log for a diagnostics bundle.
  Run(const ClientOptions& options, const ClientEnvironment& env, const ClientTuning& tuning,
      const LogRecorder& log)
      : options_(options),
        env_(env),
        tuning_(tuning),
        log_(log),
        ui_(*env.ui),
        http_(*env.http, *env.ui),
        resume_(options.state_dir.empty() ? DefaultStateDir() : options.state_dir) {}

  ExitCode Go();
  // Finish asked the user what next (so the caller must not ask again).
  bool asked() const { return asked_; }
  // The red screen's "Collect diagnostics": the bundle goes to this run's request (or a folder)
  // and the screen says where, keeping the failure shown.
  void CollectForHelpdesk();

 private:
  ExitCode Fail(Msg headline, std::string detail, ExitCode code) {
    screen_.tone = Tone::kFailure;
    screen_.status_line = Text(headline);
    screen_.elapsed.clear();
    screen_.detail = std::move(detail);
    screen_.instruction.clear();
    screen_.qr_rows.clear();
    screen_.reconnecting = false;
    ui_.ShowScreen(screen_);
    ui_.Log(screen_.status_line + ": " + screen_.detail);
    return code;
  }
  ExitCode CheckDevice();
  // Submits (or resumes) and follows the request to its end; nullopt = the request ended.
  ExitCode SubmitAndFollow(bool allow_resume);
  std::optional<RequestStatus> Resume(ServerApi& api);
  Result<SubmitOutcome> SubmitWithRetries(ServerApi& api);
  ExitCode Follow(ServerApi& api, RequestStatus status);
  void Show(const RequestStatus& status);
  void Backoff(milliseconds* delay, const std::string& why);
  ExitCode Finish(const RequestStatus& status);

  const ClientOptions& options_;
  const ClientEnvironment& env_;
  const ClientTuning& tuning_;
  const LogRecorder& log_;
  Ui& ui_;
  LoggingHttpClient http_;
  ResumeState resume_;
  std::string server_url_;
  DeviceFacts facts_;
  std::string facts_error_;  // why the device could not be read, once that failed
  std::optional<std::vector<CheckLine>> checks_;
  Screen screen_;
  std::string shown_state_;
  std::chrono::steady_clock::time_point step_since_;
  bool asked_ = false;
};

ExitCode Run::Go() {
  Result<std::string> url = NormalizeServerUrl(options_.server, options_.allow_http);
  if (!url.ok()) return Fail(Msg::kInvalidServerAddress, url.status().message(), kExitUsage);
  Result<std::string> resolved = ResolveServerUrl(http_, *url, options_.allow_http);
  server_url_ = resolved.ok() ? *resolved : *url;
  if (resolved.ok() && server_url_ != *url) ui_.Log("server: " + server_url_);

  if (!options_.skip_checks) {
    CheckSettings settings;
    settings.server_url = server_url_;
    CheckReport report = RunChecks(settings, *env_.net, http_, *env_.clock);
    ui_.ShowChecks(report.lines);
    checks_ = report.lines;
    if (options_.check_only) return report.any_failed ? kExitChecksFailed : kExitCompleted;
  }
  if (!resolved.ok()) {
    return Fail(Msg::kCannotReachServer,
                resolved.status().message() + ". " + Text(Msg::kCheckNetworkAndAddress),
                resolved.status().code() == StatusCode::kFailedPrecondition ? kExitUsage
                                                                            : kExitServerError);
  }

  if (!options_.ignore_profile) {
    Result<std::optional<ExistingProfile>> profile = env_.profile->Detect();
    if (!profile.ok()) {
      ui_.Log("could not look for an Autopilot profile: " + profile.status().message());
    } else if (profile->has_value()) {
      const ExistingProfile& existing = **profile;
      std::string owner =
          existing.tenant_domain.empty() ? existing.tenant_id : existing.tenant_domain;
      return Fail(Msg::kHasProfileHeadline, Text(Msg::kHasProfileDetail, {owner}), kExitHasProfile);
    }
  }

  if (ExitCode code = CheckDevice(); code != kExitCompleted) return code;
  return SubmitAndFollow(/*allow_resume=*/true);
}

ExitCode Run::CheckDevice() {
  Result<DeviceFacts> facts = env_.hardware->Read();
  if (!facts.ok()) {
    facts_error_ = facts.status().message();
    return Fail(Msg::kCannotReadDevice, facts.status().message(), kExitDeviceUnreadable);
  }
  facts_ = *facts;
  screen_.device = facts_;
  ui_.Log("device from " + facts_.source + ": " + facts_.manufacturer + " " + facts_.model +
          ", serial " + facts_.serial_number);
  if (facts_.serial_number.empty()) {
    return Fail(Msg::kNoSerialHeadline, Text(Msg::kNoSerialDetail, {facts_.source}),
                kExitDeviceUnreadable);
  }
  if (options_.corporate_identifier) {
    facts_.hardware_hash.clear();  // not sent, and not needed: works where WMI gives no hash
    return kExitCompleted;
  }
  if (facts_.hardware_hash.empty()) {
    // Why, then what works without the hash.
    std::string why = facts_.hash_problem.empty() ? Text(Msg::kNoHashFromSource, {facts_.source})
                                                  : facts_.hash_problem;
    return Fail(Msg::kNoHashHeadline, why + " " + Text(Msg::kNoHashAlternatives),
                kExitDeviceUnreadable);
  }
  // The hash names the device too; a contradiction is shown before anything is sent.
  Result<std::string> blob = Base64Decode(facts_.hardware_hash);
  Result<HardwareHashInfo> decoded =
      blob.ok() ? DecodeHardwareHash(*blob) : Result<HardwareHashInfo>(blob.status());
  DeviceSubmission submission{
      facts_.serial_number, facts_.manufacturer, facts_.model, facts_.hardware_hash, "", ""};
  VerificationOutcome outcome =
      VerifyDevice(submission, decoded, HashVerificationMode::kWarn, AllowList{});
  if (outcome.verdict == VerificationOutcome::Verdict::kUnverifiable) {
    ui_.Log("the hardware hash could not be checked here: " + outcome.unverifiable_reason);
  } else if (outcome.verdict == VerificationOutcome::Verdict::kMismatch) {
    std::string list;
    for (const HashMismatch& m : outcome.mismatches) {
      const Msg field = m.field == HashMismatch::Field::kSerialNumber   ? Msg::kLabelSerialNumber
                        : m.field == HashMismatch::Field::kManufacturer ? Msg::kLabelManufacturer
                                                                        : Msg::kLabelModel;
      list += (list.empty() ? "" : "; ") +
              Text(Msg::kHashMismatchLine, {Text(field), m.reported, m.in_hash});
    }
    return Fail(Msg::kHashMismatchHeadline, Text(Msg::kHashMismatchDetail, {list}),
                kExitDeviceUnreadable);
  }
  return kExitCompleted;
}

std::optional<RequestStatus> Run::Resume(ServerApi& api) {
  std::optional<SavedRequest> saved = resume_.Load(server_url_, facts_.serial_number);
  if (!saved) return std::nullopt;
  Result<PollOutcome> poll = api.Poll(saved->request_id, "", seconds(0));
  if (!poll.ok() || poll->not_found || poll->not_modified || poll->status.terminal) {
    ui_.Log("the saved request " + saved->request_id + " cannot be continued; submitting anew");
    resume_.Clear();
    return std::nullopt;
  }
  ui_.Log("continuing the saved request " + saved->request_id);
  if (poll->status.state == RequestState::kPendingApproval) {
    // Its QR code is needed again, and only a submission returns one: the server answers it
    // with the open request of this serial (this one) instead of making a new one.
    Result<SubmitOutcome> again = api.Submit(facts_);
    if (again.ok() && again->request && again->request->id == saved->request_id) {
      return again->request;
    }
  }
  return poll->status;
}

void Run::Backoff(milliseconds* delay, const std::string& why) {
  screen_.reconnecting = true;
  screen_.detail = Text(Msg::kReconnecting, {why});
  ui_.ShowScreen(screen_);
  env_.clock->SleepFor(*delay);
  *delay = std::min(*delay * 2, tuning_.max_backoff);
}

Result<SubmitOutcome> Run::SubmitWithRetries(ServerApi& api) {
  milliseconds delay = tuning_.first_backoff;
  screen_.status_line = Text(Msg::kSending);
  ui_.ShowScreen(screen_);
  constexpr int kAttempts = 6;  // about a minute with the default backoff
  for (int attempt = 1;; ++attempt) {
    Result<SubmitOutcome> outcome = api.Submit(facts_);
    if (outcome.ok() || outcome.status().code() != StatusCode::kUnavailable ||
        attempt == kAttempts) {
      screen_.reconnecting = false;
      screen_.detail.clear();
      return outcome;
    }
    Backoff(&delay, outcome.status().message());
  }
}

ExitCode Run::SubmitAndFollow(bool allow_resume) {
  ServerApi api(http_, server_url_, APM_VERSION,
                options_.corporate_identifier   ? "register_corporate_identifier"
                : options_.remove_intune_record ? "remove_intune_record"
                                                : "");
  std::optional<RequestStatus> status = allow_resume ? Resume(api) : std::nullopt;
  if (!status) {
    Result<SubmitOutcome> outcome = SubmitWithRetries(api);
    if (!outcome.ok()) {
      return Fail(Msg::kCannotReachServer,
                  outcome.status().message() + ". " + Text(Msg::kCheckNetworkAndRetry),
                  kExitServerError);
    }
    if (outcome->refusal) {
      const SubmitRefusal& refusal = *outcome->refusal;
      if (std::optional<Msg> why = NotAllowedReason(refusal.code)) {
        return Fail(Msg::kNotAllowedHeadline, Text(*why) + InParentheses(refusal.message),
                    kExitNotAllowed);
      }
      return Fail(Msg::kServerRefused,
                  refusal.message + " (HTTP " + std::to_string(refusal.http_status) + ").",
                  kExitServerError);
    }
    status = *outcome->request;
    Status saved = resume_.Save({server_url_, facts_.serial_number, status->id});
    if (!saved.ok()) ui_.Log("cannot keep the request id for a restart: " + saved.message());
  }
  screen_.request_id = status->id;
  screen_.qr_rows = status->qr_rows;
  screen_.approval_url = status->approval_url;
  Show(*status);
  if (options_.no_wait && !status->terminal) return kExitCompleted;
  return Follow(api, *status);
}

void Run::Show(const RequestStatus& status) {
  std::string state(RequestStateName(status.state));
  if (state != shown_state_) {
    shown_state_ = state;
    step_since_ = env_.clock->Monotonic();
  }
  StatusMessage verdict = DescribeRequest(status);
  long long elapsed = duration_cast<seconds>(env_.clock->Monotonic() - step_since_).count();
  screen_.tone = verdict.tone;
  screen_.reconnecting = false;
  if (verdict.tone == Tone::kWorking) {
    screen_.status_line = verdict.headline;
    screen_.elapsed = FormatElapsed(elapsed);
    screen_.instruction = verdict.detail;
    screen_.detail.clear();
  } else {
    screen_.status_line = verdict.headline;
    screen_.elapsed.clear();
    screen_.instruction.clear();
    screen_.detail = verdict.detail;
    if (verdict.tone == Tone::kFailure) screen_.qr_rows.clear();
  }
  ui_.ShowScreen(screen_);
}

ExitCode Run::Follow(ServerApi& api, RequestStatus status) {
  std::string etag;
  milliseconds delay = tuning_.first_backoff;
  while (!status.terminal) {
    Result<PollOutcome> poll = api.Poll(status.id, etag, tuning_.poll_wait);
    if (!poll.ok()) {
      Backoff(&delay, poll.status().message());
      continue;
    }
    delay = tuning_.first_backoff;
    if (poll->not_found) {
      resume_.Clear();
      return Fail(Msg::kRequestGoneHeadline, Text(Msg::kRequestGoneDetail, {status.id}),
                  kExitServerError);
    }
    if (!poll->not_modified) {
      status = poll->status;
      etag = poll->etag;
    }
    Show(status);  // also refreshes the elapsed time after a quiet long poll
  }
  return Finish(status);
}

ExitCode Run::Finish(const RequestStatus& status) {
  resume_.Clear();
  StatusMessage verdict = DescribeRequest(status);
  bool done = status.state == RequestState::kCompleted;
  seconds countdown = done && options_.reboot ? tuning_.restart_countdown : seconds(0);
  asked_ = true;
  FinalChoice choice = ui_.AskFinal(done, !done, !done, countdown);
  if (choice == FinalChoice::kCollectDiagnostics) {
    CollectForHelpdesk();
    choice = ui_.AskFinal(false, true, false, seconds(0));
  }
  while (choice == FinalChoice::kRestart) {
    Status restarted = env_.restarter->Restart();
    if (restarted.ok()) break;
    screen_.detail = Text(Msg::kCouldNotRestart, {restarted.message()});
    ui_.ShowScreen(screen_);
    choice = ui_.AskFinal(true, false, false, seconds(0));
  }
  if (choice == FinalChoice::kRetry) {
    screen_ = Screen{};
    screen_.device = facts_;
    shown_state_.clear();
    return SubmitAndFollow(/*allow_resume=*/false);
  }
  return verdict.exit_code;
}

void Run::CollectForHelpdesk() {
  DiagnosticsStart start;
  start.server_url = server_url_;
  if (!facts_.hardware_hash.empty()) {
    start.facts = facts_;
  } else {
    // Not read in this run (an earlier failure), or left out (--corporate-identifier): read
    // now, so the bundle knows the hash it must keep out of its files.
    Result<DeviceFacts> facts = env_.hardware->Read();
    if (facts.ok()) {
      start.facts = *facts;
    } else if (!facts_.serial_number.empty()) {
      start.facts = facts_;
    } else {
      start.facts_error = facts.status().message();
    }
  }
  start.request_id = screen_.request_id;
  start.checks = checks_;
  screen_.instruction = Text(Msg::kDiagnosticsCollecting);
  ui_.ShowScreen(screen_);
  start.log = log_.lines();
  const DiagnosticsOutcome outcome = CollectDiagnostics(start, options_, env_);
  screen_.instruction = outcome.message;
  ui_.ShowScreen(screen_);
}

}  // namespace

ExitCode RunClient(const ClientOptions& options, const ClientEnvironment& env,
                   const ClientTuning& tuning) {
  if (options.collect_diagnostics) return RunDiagnostics(options, env);
  LogRecorder log(*env.ui);
  ClientEnvironment recorded = env;
  recorded.ui = &log;
  for (;;) {
    Run run(options, recorded, tuning, log);
    ExitCode code = run.Go();
    if (run.asked()) return code;
    // An early end (checks only, --no-wait, or a failure before following a request): the user
    // reads the screen (a window would close at once otherwise) and may try again unless
    // trying again cannot help, or collect diagnostics for the helpdesk after a failure.
    bool can_retry = !options.check_only && code != kExitUsage && code != kExitHasProfile &&
                     code != kExitCompleted;
    bool can_collect = code != kExitUsage && code != kExitCompleted;
    FinalChoice choice = log.AskFinal(false, can_retry, can_collect, std::chrono::seconds(0));
    if (choice == FinalChoice::kCollectDiagnostics) {
      run.CollectForHelpdesk();
      choice = log.AskFinal(false, can_retry, false, std::chrono::seconds(0));
    }
    if (choice != FinalChoice::kRetry) return code;
  }
}

std::unique_ptr<HardwareProbe> HardwareProbeFor(const ClientOptions& options) {
  if (!options.device_file.empty()) return NewDeviceFileProbe(options.device_file);
  if (!options.oa3_report.empty()) {
    return NewOa3ReportProbe(options.oa3_report, NewPlatformHardwareProbe());
  }
  return NewPlatformHardwareProbe();
}

}  // namespace apm::client
