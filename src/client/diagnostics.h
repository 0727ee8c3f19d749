// The helpdesk's bundle (docs/client.md#diagnostics): what the client saw and what Windows says
// about Autopilot, in one zip, never the hardware hash. `ap --collect-diagnostics` writes it to
// a folder (a USB stick).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "client/hardware_probe.h"
#include "client/profile_detector.h"
#include "client/ui.h"
#include "core/status.h"
#include "core/zip_writer.h"

namespace apm::client {

// The largest bundle: system files that would pass it are left out (the summary says which).
inline constexpr size_t kMaxDiagnosticsBytes = 8 * 1024 * 1024;

// Files about this machine: on Windows the Autopilot and enrollment registry keys; on POSIX the
// DMI identity and os-release.
class SystemReport {
 public:
  virtual ~SystemReport() = default;
  virtual std::vector<ZipEntry> Collect() = 0;
};

std::unique_ptr<SystemReport> NewPlatformSystemReport();

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
