// The pre-checks: is the clock right, and can this network reach Autopilot, Entra and Intune?
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "client/http_client.h"
#include "client/net_probe.h"
#include "client/system.h"
#include "client/ui.h"

namespace apm::client {

struct Endpoint {
  std::string host;
  uint16_t port;
};

// The endpoints a device in OOBE must reach (graph-api.md §8).
const std::vector<Endpoint>& EnrollmentEndpoints();

// Builds an SNTP (v4, client mode) request and reads the server's transmit time from an answer.
std::string SntpRequest();
Result<std::chrono::system_clock::time_point> ParseSntpAnswer(const std::string& packet);

// Warn at 5 min of skew or more, fail above 15 min.
CheckOutcome ClassifySkew(std::chrono::seconds skew);

struct CheckReport {
  std::vector<CheckLine> lines;
  bool any_failed = false;
};

struct CheckSettings {
  std::string server_url;  // its Date header is the second clock source
  std::string sntp_host = "time.windows.com";
  std::vector<Endpoint> endpoints = EnrollmentEndpoints();
  std::chrono::milliseconds timeout{3000};  // per check; they run concurrently
};

// Runs every check at once and reports each. A failure is explained in `detail`.
CheckReport RunChecks(const CheckSettings& settings, NetProbe& net, HttpClient& http,
                      DeviceClock& clock);

}  // namespace apm::client
