// `apm-server doctor`: checks the configuration against the real tenant and says, one line
// each, what is wrong and how to fix it. Every call it makes is read-only.
#pragma once

#include <atomic>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "server/clock.h"
#include "server/config.h"
#include "server/graph/graph_client.h"
#include "server/http/outbound_http.h"

namespace apm {

enum class DoctorVerdict { kOk, kWarning, kFailed };
// "ok", "warning", "failed": in --json, the status page and /metrics.
std::string_view DoctorVerdictName(DoctorVerdict verdict);
// "✔", "!", "✘": on a terminal and on the status page.
std::string_view DoctorMark(DoctorVerdict verdict);

struct Finding {
  std::string check;  // "token", "permission DeviceManagementServiceConfig.ReadWrite.All", ...
  DoctorVerdict verdict = DoctorVerdict::kOk;
  std::string text;  // what was found
  std::string fix;   // what to do about it; "" when nothing needs doing
};

struct DoctorReport {
  std::vector<SettingView> settings;
  std::vector<Finding> findings;
  bool failed() const;
};

// A report and when its run ended (the server's background runs).
struct DoctorRun {
  int64_t at = 0;  // ms
  DoctorReport report;
};

// Clock skew against an endpoint's Date header: a warning from this much, a failure from the
// five minutes Entra ID allows for a token's times.
inline constexpr int64_t kSkewWarnSeconds = 60;
inline constexpr int64_t kSkewFailSeconds = 300;
// A secret or certificate ending within this many days is a warning.
inline constexpr int64_t kExpiryWarnDays = 30;

class Doctor {
 public:
  // `graph_http` carries the calls to Entra ID and Graph, with GraphCaFile's trust as the
  // server's Graph and sign-in clients have; `public_http` the check of PublicUrl, with the
  // system's trust as devices and browsers have.
  Doctor(const Config& config, OutboundHttp& graph_http, OutboundHttp& public_http,
         const Clock& clock);
  DoctorReport Run();
  // Ends a run early (server shutdown): Graph's retries and budget waits end at once; calls
  // end when `graph_http` is cancelled.
  void Stop();

 private:
  void Add(std::string check, DoctorVerdict verdict, std::string text, std::string fix = "");
  void CheckRequiredSettings();
  // Reaches `url`, and compares the answer's Date with our clock; false when it did not answer.
  bool CheckEndpoint(const std::string& check, const std::string& url, OutboundHttp& http,
                     const std::string& setting);
  // The token, and the Graph checks when Graph answered and a token can be had.
  void CheckGraph(bool graph_reached);
  // The groups that give the sign-in roles exist.
  void CheckSignInGroups(GraphClient& client);
  // Days left on the app's credential (doctor_credentials.cc): the certificate's from its file;
  // the secret's from the app registration, which Graph shows only with Application.Read.All.
  void CheckCertificateExpiry();
  void CheckSecretExpiry(GraphClient& client);
  void AddExpiry(const std::string& check, const std::string& what, int64_t end_ms,
                 const std::string& renew);
  void CheckSignIn();
  // PublicUrl answers, with a certificate this machine trusts and days left on it
  // (doctor_public_url.cc).
  void CheckPublicUrl();

  const Config& config_;
  OutboundHttp& graph_http_;
  OutboundHttp& public_http_;
  const Clock& clock_;
  DoctorReport report_;
  // Stop() was called (read between checks and by libcurl); set under stop_mu_, so a client
  // registered after it is stopped at once.
  std::atomic<bool> cancelled_{false};
  std::mutex stop_mu_;             // guards client_
  GraphClient* client_ = nullptr;  // the run's Graph client, while it has one
};

// One line per finding (✔ ! ✘, or [ok] [warn] [FAIL] when `plain`), then the settings.
std::string DoctorText(const DoctorReport& report, bool plain);
nlohmann::json DoctorJson(const DoctorReport& report);

}  // namespace apm
