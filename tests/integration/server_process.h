// Test harness: runs the real apm-server binary on a loopback port with its own data dir, and a
// small libcurl/socket client to talk to it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "server/testing/raw_connection.h"

namespace apm::itest {

class ServerProcess {
 public:
  // `config_toml` is written to a file and passed with --config when not empty.
  explicit ServerProcess(std::string config_toml = "", std::map<std::string, std::string> env = {});
  // apm-tenant-sim on a loopback port, with these extra arguments.
  static std::unique_ptr<ServerProcess> TenantSim(std::vector<std::string> args);
  ~ServerProcess();

  // Starts and waits until the server logs that it listens; false on failure (see log()).
  bool Start();
  // Listen on this port instead of one the system picks (when another process must know the
  // URL before this one starts, e.g. an identity provider's redirect URI).
  void UsePort(uint16_t port) { fixed_port_ = port; }
  // Starts the process with this open-file limit, soft and hard (so it cannot raise it).
  void LimitOpenFiles(uint64_t limit) { open_file_limit_ = limit; }
  // A port that was free a moment ago.
  static uint16_t FreePort();
  // Sends a signal and waits for the exit; returns the exit status (-1 if it did not exit).
  int Stop(int signal, std::chrono::milliseconds wait = std::chrono::seconds(15));
  void Kill9();

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  uint16_t port() const { return port_; }
  const std::string& data_dir() const { return data_dir_; }
  const std::string& config_path() const { return config_path_; }
  std::string log() const;
  // Waits (up to 5 s) until the log contains `text`; the access log is written just after the
  // answer, so a client can see the answer first.
  bool WaitForLog(const std::string& text) const;
  pid_t pid() const { return pid_; }

  // Runs `apm-server <args>` (an admin command) against the same data dir; returns exit code.
  int RunCommand(const std::vector<std::string>& args, std::string* out = nullptr) const;

  static std::string Binary();

 private:
  std::string binary_;
  std::vector<std::string> sim_args_;  // set: this is apm-tenant-sim
  std::string dir_, data_dir_, config_path_, log_path_;
  std::map<std::string, std::string> env_;
  pid_t pid_ = -1;
  uint16_t port_ = 0;
  uint16_t fixed_port_ = 0;
  uint64_t open_file_limit_ = 0;  // 0: inherited
};

struct HttpResult {
  long status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string error;                           // transport error, if any
  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

HttpResult Http(const std::string& method, const std::string& url, const std::string& body = "",
                const std::vector<std::string>& headers = {}, bool insecure_tls = false);

using apm::testing::RawConnection;
using apm::testing::RawExchange;

// The profile-assignment group the tests give apm-tenant-sim (--profile-group-id).
inline constexpr char kSimProfileGroup[] = "6a1c0f3e-5d2b-4c8a-9e71-2f4b8d0c6a15";

// apm-server settings that make the simulator at `sim_url` its tenant (its default app id, the
// profile group above) with sub-second import polls.
std::string SimTenantConfig(const std::string& sim_url,
                            const std::string& tenant_id = "00000000-0000-4000-8000-000000000001");

// A synthetic hash for a laptop with this serial (base64).
std::string LaptopHash(const std::string& serial, const std::string& manufacturer = "LENOVO",
                       const std::string& model = "21R3001BUK");
std::string SubmitBody(const std::string& serial, const std::string& manufacturer = "LENOVO",
                       const std::string& model = "21R3001BUK");

// A reseller's CSV of `rows` devices (serials PREFIX1000 on, every other one with Group Tag
// Kiosk) in UTF-16LE with a BOM, as Get-WindowsAutopilotInfo's Out-File writes it, and four bad
// rows: line 19 no hash, line 32 another device's hash, line 43 no serial, and a last line a
// column short. `rows` is at least 42.
std::string ResellerCsv(const std::string& prefix, int rows);

}  // namespace apm::itest
