#include "server/doctor/background_doctor.h"

#include "server/logging.h"

namespace apm {
namespace {

CurlOutboundHttp::Options HttpOptions(const std::string& ca_file) {
  CurlOutboundHttp::Options o;
  o.ca_file = ca_file;
  o.user_agent = std::string("apm-server/") + APM_VERSION + " (doctor)";
  return o;
}

// One line for the run, one warning per problem with its fix: an admin reading the log sees
// the set-up mistake without running the doctor.
void LogReport(const DoctorReport& report) {
  int ok = 0, warnings = 0, failed = 0;
  for (const Finding& f : report.findings) {
    if (f.verdict == DoctorVerdict::kOk) {
      ++ok;
      continue;
    }
    (f.verdict == DoctorVerdict::kFailed ? failed : warnings) += 1;
    LogWarn(f.verdict == DoctorVerdict::kFailed ? "set-up check failed" : "set-up check warns",
            {{"check", f.check}, {"found", f.text}, {"fix", f.fix}});
  }
  LogInfo("set-up checks ran (apm-server doctor; /autopilot/status)",
          {{"ok", ok}, {"warnings", warnings}, {"failed", failed}});
}

}  // namespace

BackgroundDoctor::BackgroundDoctor(const Config& config, const Clock& clock,
                                   std::chrono::hours interval)
    : config_(config),
      clock_(clock),
      interval_(interval),
      http_(HttpOptions(config.GraphCaFile)),
      public_http_(HttpOptions("")) {}

BackgroundDoctor::~BackgroundDoctor() {
  Stop();
}

void BackgroundDoctor::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void BackgroundDoctor::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    if (running_) running_->Stop();
  }
  http_.Cancel();
  public_http_.Cancel();
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::optional<DoctorRun> BackgroundDoctor::Latest() const {
  std::lock_guard lock(mu_);
  return latest_;
}

void BackgroundDoctor::Loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    Doctor doctor(config_, http_, public_http_, clock_);
    running_ = &doctor;
    lock.unlock();
    DoctorReport report;
    try {
      report = doctor.Run();
    } catch (const std::exception& e) {
      // A check that met an answer it did not expect must not end the server.
      report.findings.push_back({"doctor", DoctorVerdict::kWarning,
                                 std::string("the checks stopped early: ") + e.what(),
                                 "run apm-server doctor to see where"});
    }
    lock.lock();
    running_ = nullptr;
    if (stopping_) break;  // cut short: not a finding
    LogReport(report);
    latest_ = DoctorRun{.at = clock_.NowMs(), .report = std::move(report)};
    wake_.wait_for(lock, interval_, [this] { return stopping_; });
  }
}

}  // namespace apm
