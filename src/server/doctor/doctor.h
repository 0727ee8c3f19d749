// `apm-server doctor`: checks the configuration against the real tenant and says, one line
// each, what is wrong and how to fix it. Every call it makes is read-only.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "server/clock.h"
#include "server/config.h"
#include "server/graph/graph_client.h"
#include "server/http/outbound_http.h"

namespace apm {

enum class DoctorVerdict { kOk, kWarning, kFailed };

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

// Clock skew against an endpoint's Date header: a warning from this much, a failure from the
// five minutes Entra ID allows for a token's times.
inline constexpr int64_t kSkewWarnSeconds = 60;
inline constexpr int64_t kSkewFailSeconds = 300;

class Doctor {
 public:
  // `graph_http` carries every call, with GraphCaFile's trust as the server's Graph and sign-in
  // clients have.
  Doctor(const Config& config, OutboundHttp& graph_http, const Clock& clock);
  DoctorReport Run();

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
  void CheckSignIn();

  const Config& config_;
  OutboundHttp& graph_http_;
  const Clock& clock_;
  DoctorReport report_;
};

// One line per finding (✔ ! ✘, or [ok] [warn] [FAIL] when `plain`), then the settings.
std::string DoctorText(const DoctorReport& report, bool plain);
nlohmann::json DoctorJson(const DoctorReport& report);

}  // namespace apm
