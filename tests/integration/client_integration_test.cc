// The POSIX `ap` end to end: the real client binary against the real apm-server and
// apm-tenant-sim, approvals and rejections through the server's admin command.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "core/zip_reader.h"
#include "recording_receiver.h"
#include "server_process.h"

namespace apm::itest {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

// One run of the client binary, output to a file.
class ClientRun {
 public:
  ClientRun(const std::string& dir, std::vector<std::string> args) : out_path_(dir + "/ap.out") {
    pid_ = fork();
    if (pid_ == 0) {
      FILE* out = std::fopen(out_path_.c_str(), "w");
      dup2(fileno(out), STDOUT_FILENO);
      dup2(fileno(out), STDERR_FILENO);
      std::vector<char*> argv = {const_cast<char*>(APM_CLIENT_BINARY)};
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(APM_CLIENT_BINARY, argv.data());
      _exit(127);
    }
  }
  ~ClientRun() {
    if (pid_ > 0 && exit_code_ < 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  std::string Output() const {
    std::ifstream in(out_path_);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
  // The request id the client printed, once it did (empty after `limit`).
  std::string WaitForRequestId(std::chrono::seconds limit = 20s) const {
    auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      std::string out = Output();
      size_t at = out.find("Request id");
      size_t eol = at == std::string::npos ? at : out.find('\n', at);
      if (eol != std::string::npos) {
        std::istringstream line(out.substr(at + 10, eol - at - 10));
        std::string id;
        line >> id;
        return id;
      }
      std::this_thread::sleep_for(50ms);
    }
    return "";
  }
  // The exit code, or -1 if the client did not end within `limit`.
  int Wait(std::chrono::seconds limit = 60s) {
    auto end = std::chrono::steady_clock::now() + limit;
    while (exit_code_ < 0 && std::chrono::steady_clock::now() < end) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        break;
      }
      std::this_thread::sleep_for(20ms);
    }
    return exit_code_;
  }

 private:
  std::string out_path_;
  pid_t pid_ = -1;
  int exit_code_ = -1;
};

class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "apm-client-it-" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    if (HasFailure()) {
      for (auto [process, what] : {std::pair{server_.get(), "server"}, {sim_.get(), "sim"}}) {
        if (process) std::cerr << "--- " << what << " log:\n" << process->log() << "\n";
      }
    }
    std::filesystem::remove_all(dir_);
  }

  void StartSim(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--import-delay-ms=500", "--sync-visible-delay-ms=300",
                                     "--sync-delay-ms=800", "--profile-delay-ms=500",
                                     std::string("--profile-group-id=") + kSimProfileGroup};
    args.insert(args.end(), extra.begin(), extra.end());
    sim_ = ServerProcess::TenantSim(args);
    ASSERT_TRUE(sim_->Start()) << sim_->log();
  }

  void StartServer(const std::string& extra = "") {
    std::string config = SimTenantConfig(sim_->url()) + "MaintenanceIntervalSeconds = 1\n" + extra;
    server_ = std::make_unique<ServerProcess>(
        config, std::map<std::string, std::string>{{"APM_CLIENT_SECRET", "simulator-secret"}});
    ASSERT_TRUE(server_->Start()) << server_->log();
  }

  std::string DeviceFile(const std::string& serial, const std::string& manufacturer = "LENOVO",
                         const std::string& model = "21R3001BUK") {
    std::string path = dir_ + "/device-" + serial + ".json";
    std::ofstream(path) << json{{"serialNumber", serial},
                                {"manufacturer", manufacturer},
                                {"model", model},
                                {"hardwareHash", LaptopHash(serial, manufacturer, model)}}
                               .dump();
    return path;
  }

  std::unique_ptr<ClientRun> Ap(const std::string& serial, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {server_->url(),  "--allow-http",     "--skip-checks",
                                     "--device-file", DeviceFile(serial), "--state-dir",
                                     dir_ + "/state"};
    args.insert(args.end(), extra.begin(), extra.end());
    return std::make_unique<ClientRun>(dir_, args);
  }

  int Admin(std::vector<std::string> args) {
    std::string out;
    int rc = server_->RunCommand(args, &out);
    EXPECT_EQ(rc, 0) << out;
    return rc;
  }

  std::string dir_;
  std::unique_ptr<ServerProcess> sim_, server_;
};

TEST_F(ClientTest, RunsToSuccessAfterApproval) {
  StartSim();
  StartServer();
  auto ap = Ap("PF3OK001");
  std::string id = ap->WaitForRequestId();
  ASSERT_EQ(id.size(), 24u) << ap->Output();
  Admin({"request", "approve", id});
  ASSERT_EQ(ap->Wait(), 0) << ap->Output();
  std::string out = ap->Output();
  // Every step, in order, in plain lines (no terminal here).
  size_t at = 0;
  for (const char* step : {"Waiting for approval", "Uploading the device to Autopilot",
                           "Waiting for Autopilot to register the device",
                           "Waiting for the Autopilot profile", "Your device is ready"}) {
    size_t found = out.find(step, at);
    EXPECT_NE(found, std::string::npos) << step << " missing or out of order in:\n" << out;
    if (found != std::string::npos) at = found;
  }
  EXPECT_THAT(out, HasSubstr("PF3OK001"));
  EXPECT_EQ(out.find("\033["), std::string::npos) << "colour codes without a terminal";
  EXPECT_EQ(out.find(LaptopHash("PF3OK001").substr(0, 40)), std::string::npos);
}

TEST_F(ClientTest, ASecondStartFollowsTheSameRequest) {
  StartSim();
  StartServer();
  auto first = Ap("PF3RES01", {"--no-wait"});
  ASSERT_EQ(first->Wait(), 0) << first->Output();
  std::string id = first->WaitForRequestId(1s);
  ASSERT_FALSE(id.empty()) << first->Output();
  auto second = Ap("PF3RES01", {"--verbose"});
  EXPECT_EQ(second->WaitForRequestId(), id) << second->Output();
  Admin({"request", "approve", id});
  ASSERT_EQ(second->Wait(), 0) << second->Output();
  EXPECT_THAT(second->Output(), HasSubstr("continuing the saved request " + id));
}

TEST_F(ClientTest, AlreadyRegisteredEndsWith806Words) {
  StartSim({"--registered-serial=PF3DUP01"});
  StartServer();
  auto ap = Ap("PF3DUP01");
  std::string id = ap->WaitForRequestId();
  ASSERT_FALSE(id.empty()) << ap->Output();
  Admin({"request", "approve", id});
  EXPECT_EQ(ap->Wait(), 10) << ap->Output();
  EXPECT_THAT(ap->Output(), HasSubstr("This device is already registered"));
  EXPECT_THAT(ap->Output(), HasSubstr("806"));
}

TEST_F(ClientTest, RejectedEndsWithTheReason) {
  StartSim();
  StartServer();
  auto ap = Ap("PF3REJ01");
  std::string id = ap->WaitForRequestId();
  ASSERT_FALSE(id.empty()) << ap->Output();
  Admin({"request", "reject", id, "--reason", "not one of ours"});
  EXPECT_EQ(ap->Wait(), 8) << ap->Output();
  EXPECT_THAT(ap->Output(), HasSubstr("The request was rejected"));
  EXPECT_THAT(ap->Output(), HasSubstr("not one of ours"));
}

TEST_F(ClientTest, NotAllowedIsRefusedAtOnce) {
  StartSim();
  StartServer("UseManufacturersFilter = true\nManufacturers = [\"Dell Inc.\"]\n");
  auto ap = Ap("PF3NOT01");
  EXPECT_EQ(ap->Wait(20s), 6) << ap->Output();
  EXPECT_THAT(ap->Output(), HasSubstr("This device is not allowed"));
  EXPECT_THAT(ap->Output(), HasSubstr("LENOVO"));
}

// The customer's validation function (the original's AzureFunctionsUrl) refuses the device; the
// user reads its reason on the device.
TEST_F(ClientTest, AValidationFunctionsRefusalIsShownWithItsReason) {
  RecordingReceiver functions;
  ASSERT_TRUE(functions.Start());
  functions.Script("validate", {200, "\"Serial not in the asset register\"", {}});
  StartSim();
  StartServer("AzureFunctionsUrl = \"" + functions.url() + "\"\nUseValidationFunction = true\n");
  auto ap = Ap("PF5FNCL1");
  EXPECT_EQ(ap->Wait(20s), 6) << ap->Output();
  EXPECT_THAT(ap->Output(), HasSubstr("This device is not allowed"));
  EXPECT_THAT(ap->Output(), HasSubstr("Serial not in the asset register"));
  EXPECT_EQ(functions.functions(), std::vector<std::string>{"validate"});
}

TEST_F(ClientTest, ExpiresWhenNobodyApproves) {
  StartSim();
  StartServer("Timeout = 1\n");
  auto ap = Ap("PF3EXP01");
  ASSERT_FALSE(ap->WaitForRequestId().empty()) << ap->Output();
  EXPECT_EQ(ap->Wait(90s), 9) << ap->Output();
  EXPECT_THAT(ap->Output(), HasSubstr("The request expired"));
}

TEST_F(ClientTest, ServerDownIsAClearFailure) {
  auto ap = std::make_unique<ClientRun>(
      dir_, std::vector<std::string>{"http://127.0.0.1:9", "--allow-http", "--skip-checks",
                                     "--device-file", DeviceFile("PF3DWN01")});
  EXPECT_EQ(ap->Wait(30s), 7) << ap->Output();
  EXPECT_THAT(ap->Output(), HasSubstr("Cannot reach the server"));
}

TEST_F(ClientTest, PlainHttpNeedsConsent) {
  auto ap = std::make_unique<ClientRun>(
      dir_, std::vector<std::string>{"http://127.0.0.1:9", "--skip-checks"});
  EXPECT_EQ(ap->Wait(10s), 2) << ap->Output();
  EXPECT_THAT(ap->Output(), HasSubstr("--allow-http"));
}

// A registration the tenant holds from before (the old motherboard), with an Intune record.
std::string OldRegistration(const std::string& serial) {
  return "--registered-device=" + json{{"serialNumber", serial},
                                       {"manufacturer", "LENOVO"},
                                       {"model", "21R3001BUK"},
                                       {"groupTag", "Kiosk"},
                                       {"managedDeviceName", "DESKTOP-OLD"}}
                                      .dump();
}

// Waits until the server has looked the request's serial up (at most 10 s).
bool LookedUp(const ServerProcess& server, const std::string& id) {
  for (int i = 0; i < 100; ++i) {
    std::string out;
    if (server.RunCommand({"request", "show", id}, &out) == 0 &&
        out.find("\"registration\"") != std::string::npos) {
      return true;
    }
    std::this_thread::sleep_for(100ms);
  }
  return false;
}

TEST_F(ClientTest, ARepairedDeviceShowsTheRemovalThenTheImport) {
  StartSim({OldRegistration("PF3REP01")});
  StartServer();
  auto ap = Ap("PF3REP01");
  std::string id = ap->WaitForRequestId();
  ASSERT_TRUE(LookedUp(*server_, id)) << ap->Output();
  Admin({"request", "approve", id, "--re-register"});
  ASSERT_EQ(ap->Wait(), 0) << ap->Output();
  std::string out = ap->Output();
  size_t at = 0;
  for (const char* step : {"Waiting for approval", "Removing the old registration",
                           "Uploading the device to Autopilot", "Your device is ready"}) {
    size_t found = out.find(step, at);
    EXPECT_NE(found, std::string::npos) << step << " missing or out of order in:\n" << out;
    if (found != std::string::npos) at = found;
  }
}

TEST_F(ClientTest, DashEAsksForTheIntuneRecordToBeRemoved) {
  StartSim({"--admin", OldRegistration("PF3ERA01")});
  StartServer();
  // Refused by a server that does not allow it, with the setting named.
  auto refused = Ap("PF3ERA01", {"-e"});
  EXPECT_NE(refused->Wait(), 0);
  EXPECT_THAT(refused->Output(), HasSubstr("AllowDeletionInApprovalMode"));

  server_->Stop(SIGTERM);
  StartServer("AllowDeletionInApprovalMode = true\n");
  auto ap = Ap("PF3ERA01", {"-e"});
  std::string id = ap->WaitForRequestId();
  ASSERT_TRUE(LookedUp(*server_, id)) << ap->Output();
  Admin({"request", "approve", id});  // the request itself says what to approve
  ASSERT_EQ(ap->Wait(), 0) << ap->Output();
  json stats = json::parse(Http("GET", sim_->url() + "/_sim/stats").body);
  EXPECT_EQ(stats["managedDeviceDeletesBySerial"], json({{"PF3ERA01", 1}})) << stats.dump();
  EXPECT_TRUE(stats["autopilotDeletesBySerial"].empty()) << stats.dump();
  EXPECT_FALSE(stats["importsBySerial"].contains("PF3ERA01")) << stats.dump();
}

TEST_F(ClientTest, DashURegistersTheCorporateIdentifierWithoutAHash) {
  StartSim({"--admin"});
  StartServer();
  auto ap = Ap("PF3APV09", {"-u"});
  std::string id = ap->WaitForRequestId();
  ASSERT_EQ(id.size(), 24u) << ap->Output();
  Admin({"request", "approve", id});
  ASSERT_EQ(ap->Wait(), 0) << ap->Output();
  EXPECT_THAT(ap->Output(), HasSubstr("Your device is ready"));
  json stats = json::parse(Http("GET", sim_->url() + "/_sim/stats").body);
  EXPECT_EQ(stats["identityImportsByIdentifier"]["LENOVO,21R3001BUK,PF3APV09"], 1) << stats.dump();
  EXPECT_FALSE(stats["importsBySerial"].contains("PF3APV09")) << stats.dump();
}

TEST_F(ClientTest, CollectDiagnosticsWritesTheBundleToAFolderWithoutAServer) {
  const std::string usb = dir_ + "/usb";
  ClientRun ap(dir_, {"--collect-diagnostics", "--diagnostics-folder", usb, "--device-file",
                      DeviceFile("PF3DIAG1"), "--state-dir", dir_ + "/state"});
  ASSERT_EQ(ap.Wait(30s), 0) << ap.Output();
  std::vector<std::string> written;
  for (const auto& file : std::filesystem::directory_iterator(usb)) {
    written.push_back(file.path().string());
  }
  ASSERT_EQ(written.size(), 1u);
  EXPECT_THAT(written[0], HasSubstr("/ap-diagnostics-PF3DIAG1-"));
  EXPECT_THAT(ap.Output(), HasSubstr(written[0])) << "it says where the zip is";
  std::ifstream in(written[0], std::ios::binary);
  const std::string zip((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Result<std::vector<apm::StoredZipEntry>> entries = apm::ReadStoredZip(zip);
  ASSERT_TRUE(entries.ok()) << entries.status().ToString();
  std::map<std::string, std::string> files;
  for (const auto& entry : *entries) files[entry.name] = entry.bytes;
  EXPECT_THAT(files["summary.txt"], HasSubstr("PF3DIAG1"));
  EXPECT_EQ(files.count("system/os-release.txt"), 1u);
  EXPECT_EQ(zip.find(LaptopHash("PF3DIAG1").substr(0, 40)), std::string::npos) << "no hash";
}

}  // namespace
}  // namespace apm::itest
