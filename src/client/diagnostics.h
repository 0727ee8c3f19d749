// The helpdesk's bundle (docs/client.md#diagnostics): what the client saw and what Windows says
// about Autopilot, in one zip, never the hardware hash. `ap --collect-diagnostics` writes it to
// a folder (a USB stick).
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "client/hardware_probe.h"
#include "client/profile_detector.h"
#include "client/ui.h"
#include "core/diagnostics_bundle.h"
#include "core/status.h"
#include "core/zip_writer.h"

namespace apm::client {

// Files about this machine: on Windows the Autopilot and enrollment registry keys; on POSIX the
// DMI identity and os-release.
class SystemReport {
 public:
  virtual ~SystemReport() = default;
  virtual std::vector<ZipEntry> Collect() = 0;
};

std::unique_ptr<SystemReport> NewPlatformSystemReport();

// Windows: MdmDiagnosticsTool.exe's Autopilot report, its files as system/mdm/<name> after
// system/mdm-diagnostics.txt (what ran, how it ended, what was too large); only that note when
// the tool is not there (mdm_diagnostics_win32.cc).
std::vector<ZipEntry> CollectMdmDiagnostics();

// Passes everything on to the real Ui and keeps the log lines for a bundle.
class LogRecorder : public Ui {
 public:
  explicit LogRecorder(Ui& inner) : inner_(inner) {}
  void ShowChecks(const std::vector<CheckLine>& lines) override { inner_.ShowChecks(lines); }
  void ShowScreen(const Screen& screen) override { inner_.ShowScreen(screen); }
  void Log(const std::string& line) override;
  FinalChoice AskFinal(bool can_restart, bool can_retry, bool can_collect,
                       std::chrono::seconds restart_countdown) override {
    return inner_.AskFinal(can_restart, can_retry, can_collect, restart_countdown);
  }
  std::vector<std::string> lines() const;

 private:
  Ui& inner_;
  mutable std::mutex mutex_;
  std::vector<std::string> lines_;
};

// What a collection starts from: what the run (or --collect-diagnostics) already knows.
struct DiagnosticsStart {
  std::string server_url;      // normalised; "" when none was given or it is not valid
  std::string server_problem;  // why the address given is not one
  std::optional<DeviceFacts> facts;
  std::string facts_error;
  std::string request_id;  // the request the bundle goes to, or "" (then only to a folder)
  std::optional<std::vector<CheckLine>> checks;
  std::vector<std::string> log;
};

// Where a bundle went: to the request on the server, to a file, or nowhere (`message` says why).
struct DiagnosticsOutcome {
  bool sent = false;
  std::string path;     // the file written, or ""
  std::string message;  // what happened, for the screen, in the user's language
  bool delivered() const { return sent || !path.empty(); }
};

// Everything the bundle tells, gathered by RunClient's diagnostics mode.
struct DiagnosticsReport {
  std::string version;
  std::string language;
  std::string server;          // the normalised address (never as typed: it may hold a password)
  std::string server_problem;  // why the address given is not one; "" when fine or none given
  std::string request_id;      // the saved request of this device on that server, or ""
  std::optional<std::vector<CheckLine>> checks;  // nullopt: not run
  std::optional<DeviceFacts> facts;              // nullopt: facts_error says why
  std::string facts_error;
  std::string profile;  // the existing Autopilot profile, "none", or why it is unknown
  std::vector<std::string> log;
  std::vector<ZipEntry> system;
};

// The zip: summary.txt, checks.txt, ap.log and the system files, at most `max_bytes` (system
// files are dropped, largest first, to fit). The hash is never in it: only its fingerprint
// and what decoding it tells (serial, manufacturer, model, TPM, counts of network adapters
// and disks); a log line or system file holding 16 characters of it (base64, or 16 of its
// bytes raw or as hex) is left out whole, and the summary says so.
Result<std::string> DiagnosticsZip(const DiagnosticsReport& report,
                                   std::chrono::system_clock::time_point now,
                                   size_t max_bytes = kMaxDiagnosticsBytes);

// "ap-diagnostics-PF3ABCDE-20261130-153012.zip" (UTC; characters a file name cannot hold in the
// serial become '_').
std::string DiagnosticsFileName(const std::string& serial,
                                std::chrono::system_clock::time_point now);

}  // namespace apm::client
