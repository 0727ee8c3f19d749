// The whole run of ap: checks, device facts, submit (or resume), follow, finish.
#pragma once

#include <memory>

#include "client/diagnostics.h"
#include "client/hardware_probe.h"
#include "client/http_client.h"
#include "client/messages.h"
#include "client/net_probe.h"
#include "client/options.h"
#include "client/profile_detector.h"
#include "client/system.h"
#include "client/ui.h"

namespace apm::client {

// The seams of a run; the platform twins in real use, fakes in tests.
struct ClientEnvironment {
  HttpClient* http = nullptr;
  NetProbe* net = nullptr;
  HardwareProbe* hardware = nullptr;
  ProfileDetector* profile = nullptr;
  DeviceClock* clock = nullptr;
  Restarter* restarter = nullptr;
  Ui* ui = nullptr;
  SystemReport* system_report = nullptr;  // for --collect-diagnostics; none: no system files
};

struct ClientTuning {
  std::chrono::seconds poll_wait{55};             // long-poll length asked of the server
  std::chrono::milliseconds first_backoff{1000};  // after a lost connection
  std::chrono::milliseconds max_backoff{30000};
  std::chrono::seconds restart_countdown{10};  // --reboot
};

// Runs the client and returns its exit code.
ExitCode RunClient(const ClientOptions& options, const ClientEnvironment& env,
                   const ClientTuning& tuning = {});

// --collect-diagnostics: gathers the bundle, sends it to the device's last request on the
// server and/or writes it to the folder; kExitCompleted when it went somewhere.
ExitCode RunDiagnostics(const ClientOptions& options, const ClientEnvironment& env);

// Gathers the rest of a bundle (profile, system files), sends it to `start.request_id` on
// `start.server_url` when both are known, and writes it to --diagnostics-folder when given, or
// to the current folder when it was not sent.
DiagnosticsOutcome CollectDiagnostics(const DiagnosticsStart& start, const ClientOptions& options,
                                      const ClientEnvironment& env);

// The hardware picked by the options: device file, OA3 report, or the platform's.
std::unique_ptr<HardwareProbe> HardwareProbeFor(const ClientOptions& options);

}  // namespace apm::client
