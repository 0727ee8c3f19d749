#include "client/client_app.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "client/catalogue.h"
#include "client/testing/fakes.h"
#include "core/diagnostics_bundle.h"
#include "core/testing/hash_builder.h"
#include "core/zip_reader.h"

namespace apm::client {
namespace {

using json = nlohmann::json;
using testing::Answer;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string StatusJson(const std::string& id, const std::string& state, json error = nullptr) {
  bool terminal = IsTerminal(*ParseRequestState(state));
  return json{{"id", id},
              {"state", state},
              {"terminal", terminal},
              {"mode", "self_service"},
              {"approvalUrl", "https://apm.example/autopilot/" + id},
              {"error", error},
              {"qr", {{"size", 2}, {"rows", {"10", "01"}}}}}
      .dump();
}

// A scripted apm-server: each poll moves the request to the next state of `states`.
struct FakeServer {
  std::vector<std::string> states = {"approved",        "importing",           "waiting_for_sync",
                                     "adding_to_group", "waiting_for_profile", "completed"};
  json final_error = nullptr;
  int submits = 0;
  size_t polls = 0;
  int lose_polls = 0;                                 // transport failures before answering polls
  std::optional<std::pair<int, std::string>> refuse;  // submit answer instead of 201
  std::vector<HttpRequest> bundles;                   // diagnostics sent

  Result<HttpResponse> Handle(const HttpRequest& r) {
    if (r.method == "POST" && r.url.find("/diagnostics?") != std::string::npos) {
      bundles.push_back(r);
      return Answer(201, R"({"diagnostics":{"number":1}})");
    }
    if (r.method == "POST") {
      ++submits;
      if (refuse) return Answer(refuse->first, refuse->second);
      return Answer(201, StatusJson("R" + std::to_string(submits), "pending_approval"));
    }
    std::string prefix = "https://apm.example/api/v1/requests/";
    if (r.url.rfind(prefix, 0) == 0) {
      std::string id = r.url.substr(prefix.size(), r.url.find('?') - prefix.size());
      if (id == "GONE") return Answer(404);
      if (r.url.find("?wait=") == std::string::npos) {  // a resume look-up
        return Answer(200, StatusJson(id, "importing"), {{"ETag", "\"v1\""}});
      }
      if (lose_polls > 0) {
        --lose_polls;
        return Status::Unavailable("connection reset");
      }
      const std::string& state = states[std::min(polls++, states.size() - 1)];
      bool last = polls >= states.size();
      return Answer(200, StatusJson(id, state, last ? final_error : json(nullptr)),
                    {{"ETag", "\"v" + std::to_string(polls + 1) + "\""}});
    }
    return Answer(200, "<html>");  // the home page, while resolving the address
  }
};

struct ClientAppTest : ::testing::Test {
  FakeServer server;
  testing::FakeHttpClient http{[this](const HttpRequest& r) { return server.Handle(r); }};
  testing::FakeNetProbe net;
  std::unique_ptr<testing::FakeHardwareProbe> hardware;
  testing::FakeProfileDetector profile;
  testing::FakeDeviceClock clock;
  testing::FakeRestarter restarter;
  testing::RecordingUi ui;
  ClientOptions options;
  std::string state_dir = ::testing::TempDir() + "apm-client-" +
                          ::testing::UnitTest::GetInstance()->current_test_info()->name();

  void SetUp() override {
    std::filesystem::remove_all(state_dir);
    options.server = "apm.example";
    options.skip_checks = true;
    options.state_dir = state_dir;
    SetDevice("PF3ABCDE", "LENOVO", "21R3001BUK");
  }
  void TearDown() override { std::filesystem::remove_all(state_dir); }
  void SetDevice(const std::string& serial, const std::string& manufacturer,
                 const std::string& model, const std::string& hash_serial = "") {
    std::string hash =
        apm::testing::HashText(apm::testing::HashBuilder::Laptop(
                                   hash_serial.empty() ? serial : hash_serial, manufacturer, model)
                                   .Build());
    hardware = std::make_unique<testing::FakeHardwareProbe>(
        DeviceFacts{serial, manufacturer, model, hash, "test", ""});
  }
  ExitCode Run() {
    ClientEnvironment env{&http, &net, hardware.get(), &profile, &clock, &restarter, &ui};
    return RunClient(options, env);
  }
  int Posts() const {
    int n = 0;
    for (const HttpRequest& r : http.requests()) n += r.method == "POST";
    return n;
  }
};

TEST_F(ClientAppTest, FollowsTheRequestToTheEndAndOffersARestart) {
  EXPECT_EQ(Run(), kExitCompleted);
  EXPECT_THAT(ui.StatusLines(),
              ElementsAre("Sending the device details", "Waiting for approval", "Approved",
                          "Uploading the device to Autopilot",
                          "Waiting for Autopilot to register the device",
                          "Adding the device to the deployment group",
                          "Waiting for the Autopilot profile", "Your device is ready"));
  const Screen& first = ui.screens.at(1);
  EXPECT_EQ(first.request_id, "R1");
  EXPECT_EQ(first.qr_rows, (std::vector<std::string>{"10", "01"}));
  EXPECT_THAT(first.instruction, HasSubstr("Scan the QR code"));
  EXPECT_EQ(first.device.serial_number, "PF3ABCDE");
  EXPECT_EQ(ui.screens.back().tone, Tone::kSuccess);
  ASSERT_EQ(ui.asks.size(), 1u);
  EXPECT_TRUE(ui.asks[0].can_restart);
  EXPECT_FALSE(ui.asks[0].can_retry);
  EXPECT_FALSE(ui.asks[0].can_collect) << "diagnostics are offered on failures only";
  EXPECT_EQ(restarter.restarts, 0);  // the user closed instead
  // Long polls carry the last ETag.
  std::vector<HttpRequest> requests = http.requests();
  EXPECT_EQ(requests.back().headers.back().second, "\"v6\"");
}

TEST_F(ClientAppTest, RestartsAfterTheCountdownWithReboot) {
  options.reboot = true;
  ui.choices = {FinalChoice::kRestart};
  EXPECT_EQ(Run(), kExitCompleted);
  EXPECT_EQ(ui.asks.at(0).countdown, std::chrono::seconds(10));
  EXPECT_EQ(restarter.restarts, 1);
}

TEST_F(ClientAppTest, NetworkLossWhileWaitingIsReconnectingNotFailure) {
  server.lose_polls = 4;
  EXPECT_EQ(Run(), kExitCompleted);
  int reconnecting = 0;
  for (const Screen& s : ui.screens) {
    reconnecting += s.reconnecting;
    EXPECT_NE(s.tone, Tone::kFailure);
  }
  EXPECT_EQ(reconnecting, 4);
  using std::chrono::milliseconds;
  EXPECT_THAT(clock.sleeps, ElementsAre(milliseconds(1000), milliseconds(2000), milliseconds(4000),
                                        milliseconds(8000)));
}

TEST_F(ClientAppTest, AlreadyRegisteredIsShownAsSuch) {
  server.states = {"approved", "importing", "failed"};
  server.final_error = {{"code", 806}, {"name", "ZtdDeviceAlreadyAssigned"}, {"message", "x"}};
  EXPECT_EQ(Run(), kExitAlreadyRegistered);
  EXPECT_EQ(ui.screens.back().status_line, "This device is already registered");
  EXPECT_EQ(ui.screens.back().tone, Tone::kFailure);
  EXPECT_TRUE(ui.screens.back().qr_rows.empty());
  EXPECT_TRUE(ui.asks.at(0).can_retry);
}

// The red screen's button: the bundle goes to the request that failed; the failure stays shown.
TEST_F(ClientAppTest, TheRedScreenSendsDiagnosticsToTheFailedRequest) {
  server.states = {"approved", "importing", "failed"};
  server.final_error = {{"code", 806}, {"name", "ZtdDeviceAlreadyAssigned"}, {"message", "x"}};
  ui.choices = {FinalChoice::kCollectDiagnostics};
  EXPECT_EQ(Run(), kExitAlreadyRegistered);
  ASSERT_EQ(ui.asks.size(), 2u);
  EXPECT_TRUE(ui.asks[0].can_collect);
  EXPECT_FALSE(ui.asks[1].can_collect) << "once is enough";
  EXPECT_TRUE(ui.asks[1].can_retry);
  ASSERT_EQ(server.bundles.size(), 1u);
  const HttpRequest& sent = server.bundles[0];
  EXPECT_THAT(sent.url, HasSubstr("https://apm.example/api/v1/requests/R1/diagnostics?name="
                                  "ap-diagnostics-PF3ABCDE-"));
  EXPECT_THAT(sent.headers,
              Contains(std::pair<std::string, std::string>("Content-Type", "application/zip")));
  Result<std::vector<StoredZipEntry>> entries = ReadStoredZip(sent.body);
  ASSERT_TRUE(entries.ok()) << entries.status().ToString();
  std::map<std::string, std::string> files;
  for (const StoredZipEntry& e : *entries) files[e.name] = e.bytes;
  EXPECT_THAT(files["summary.txt"], HasSubstr("R1"));
  EXPECT_THAT(files["ap.log"], HasSubstr("device from test"));
  // As the server looks: no file of the bundle holds any of the hash.
  const HashSpotter hash(hardware->Read()->hardware_hash);
  for (const auto& [name, bytes] : files) EXPECT_FALSE(hash.Holds(bytes)) << name;
  EXPECT_EQ(ui.screens.back().tone, Tone::kFailure);
  EXPECT_EQ(ui.screens.back().status_line, "This device is already registered");
  EXPECT_EQ(ui.screens.back().instruction,
            "The diagnostics were sent to your helpdesk with request R1.");
}

// --corporate-identifier sends no hash, but the device has one: the button's bundle still keeps
// it out of its files (the run's facts have none, so the device is read again).
TEST_F(ClientAppTest, ACorporateIdentifierRunsBundleStillKeepsTheHashOut) {
  options.corporate_identifier = true;
  server.states = {"approved", "failed"};
  server.final_error = {{"code", 0}, {"name", "GraphError"}, {"message", "x"}};
  const std::string hash = hardware->Read()->hardware_hash;
  testing::FakeSystemReport system;
  system.files = {{"system/registry.txt", "Blob = " + hash.substr(8, 24) + "\n"},
                  {"system/other.txt", "nothing of it\n"}};
  ui.choices = {FinalChoice::kCollectDiagnostics};
  ClientEnvironment env{&http, &net, hardware.get(), &profile, &clock, &restarter, &ui, &system};
  RunClient(options, env);
  ASSERT_EQ(server.bundles.size(), 1u);
  Result<std::vector<StoredZipEntry>> entries = ReadStoredZip(server.bundles[0].body);
  ASSERT_TRUE(entries.ok()) << entries.status().ToString();
  std::map<std::string, std::string> files;
  for (const StoredZipEntry& e : *entries) files[e.name] = e.bytes;
  EXPECT_EQ(files.count("system/registry.txt"), 0u);
  EXPECT_EQ(files.count("system/other.txt"), 1u);
  EXPECT_THAT(files["summary.txt"],
              HasSubstr("system/registry.txt (it held part of the hardware hash)"));
  EXPECT_EQ(server.bundles[0].body.find(hash.substr(8, 24)), std::string::npos);
}

// A failure before any request: nothing to attach it to, so the bundle goes to the folder.
TEST_F(ClientAppTest, DiagnosticsOfAnEarlyFailureGoToTheFolder) {
  hardware = std::make_unique<testing::FakeHardwareProbe>(
      DeviceFacts{"PF3ABCDE", "LENOVO", "21R3001BUK", "", "test", "WMI gave no hash"});
  options.diagnostics_folder = state_dir + "/usb";
  ui.choices = {FinalChoice::kCollectDiagnostics};
  EXPECT_EQ(Run(), kExitDeviceUnreadable);
  ASSERT_EQ(ui.asks.size(), 2u);
  EXPECT_TRUE(ui.asks[0].can_collect);
  EXPECT_TRUE(server.bundles.empty());
  const std::string path = state_dir + "/usb/" + DiagnosticsFileName("PF3ABCDE", clock.now);
  EXPECT_TRUE(std::filesystem::exists(path)) << ui.screens.back().instruction;
  EXPECT_THAT(ui.screens.back().instruction, HasSubstr(path));
  EXPECT_EQ(ui.screens.back().status_line, Text(Msg::kNoHashHeadline));
}

TEST_F(ClientAppTest, RetryResubmits) {
  server.states = {"expired"};
  ui.choices = {FinalChoice::kRetry};
  EXPECT_EQ(Run(), kExitExpired);
  EXPECT_EQ(Posts(), 2);
  EXPECT_EQ(ui.asks.size(), 2u);
}

TEST_F(ClientAppTest, RefusedDeviceIsNotAllowed) {
  server.refuse = {{403, R"({"error":{"code":"manufacturer_not_allowed",
                     "message":"manufacturer LENOVO is not allowed"}})"}};
  EXPECT_EQ(Run(), kExitNotAllowed);
  EXPECT_EQ(ui.screens.back().status_line, "This device is not allowed");
  EXPECT_THAT(ui.screens.back().detail, HasSubstr("LENOVO is not allowed"));
  EXPECT_TRUE(ui.asks.at(0).can_retry);
}

TEST_F(ClientAppTest, HashThatContradictsTheDeviceIsNotSent) {
  SetDevice("PF3ABCDE", "LENOVO", "21R3001BUK", /*hash_serial=*/"OTHER123");
  EXPECT_EQ(Run(), kExitDeviceUnreadable);
  EXPECT_EQ(Posts(), 0);
  EXPECT_THAT(ui.screens.back().detail, HasSubstr("OTHER123"));
  EXPECT_THAT(ui.screens.back().detail, HasSubstr("Nothing was sent"));
}

TEST_F(ClientAppTest, MissingHashExplainsTheWayOut) {
  hardware = std::make_unique<testing::FakeHardwareProbe>(
      DeviceFacts{"S1", "Dell Inc.", "Latitude", "", "WMI", "no MDM WMI bridge here"});
  EXPECT_EQ(Run(), kExitDeviceUnreadable);
  EXPECT_EQ(ui.screens.back().status_line, "The hardware hash is not available");
  EXPECT_THAT(ui.screens.back().detail, HasSubstr("no MDM WMI bridge here"));
  // And what works without it.
  EXPECT_THAT(ui.screens.back().detail, HasSubstr("--oa3-report"));
  EXPECT_THAT(ui.screens.back().detail, HasSubstr("--corporate-identifier"));
  EXPECT_EQ(Posts(), 0);
}

TEST_F(ClientAppTest, TheWholeRunSpeaksTheChosenLanguage) {
  ASSERT_TRUE(SetLanguage("de"));
  server.states = {"approved", "importing", "failed"};
  server.final_error = {{"code", 808}, {"name", "ZtdDeviceAssignedToOtherTenant"}};
  const ExitCode code = Run();
  const std::vector<std::string> lines = ui.StatusLines();
  const Screen last = ui.screens.back();
  SetLanguage("en");
  EXPECT_EQ(code, kExitOtherTenant);
  EXPECT_THAT(lines, ElementsAre(TranslationOf("de", Msg::kSending),
                                 TranslationOf("de", Msg::kPendingHeadline),
                                 TranslationOf("de", Msg::kApprovedHeadline),
                                 TranslationOf("de", Msg::kImportingHeadline),
                                 TranslationOf("de", Msg::kOtherTenantHeadline)));
  EXPECT_EQ(last.title, TranslationOf("de", Msg::kScreenTitle));
  EXPECT_THAT(last.detail, HasSubstr("808 ZtdDeviceAssignedToOtherTenant"));
}

TEST_F(ClientAppTest, ExistingProfileStopsUnlessIgnored) {
  profile.profile = ExistingProfile{"t-id", "contoso.onmicrosoft.com"};
  EXPECT_EQ(Run(), kExitHasProfile);
  EXPECT_THAT(ui.screens.back().detail, HasSubstr("contoso.onmicrosoft.com"));
  EXPECT_FALSE(ui.asks.at(0).can_retry);
  EXPECT_EQ(Posts(), 0);
  options.ignore_profile = true;
  EXPECT_EQ(Run(), kExitCompleted);
}

TEST_F(ClientAppTest, ASecondStartPicksTheRequestUp) {
  options.no_wait = true;
  EXPECT_EQ(Run(), kExitCompleted);
  EXPECT_EQ(Posts(), 1);
  options.no_wait = false;
  EXPECT_EQ(Run(), kExitCompleted);
  EXPECT_EQ(Posts(), 1);  // no second submission
  std::vector<HttpRequest> requests = http.requests();
  EXPECT_THAT(requests.back().url, HasSubstr("/api/v1/requests/R1?wait="));
  // Once finished, the next start submits anew.
  EXPECT_EQ(Run(), kExitCompleted);
  EXPECT_EQ(Posts(), 2);
}

TEST_F(ClientAppTest, AForgottenRequestIsSubmittedAnew) {
  std::filesystem::create_directories(state_dir);
  {
    std::ofstream out(state_dir + "/request.json");
    out << json{{"server", "https://apm.example"},
                {"serialNumber", "PF3ABCDE"},
                {"requestId", "GONE"}}
               .dump();
  }
  EXPECT_EQ(Run(), kExitCompleted);
  EXPECT_EQ(Posts(), 1);
}

TEST_F(ClientAppTest, CheckOnlyReportsAndStops) {
  options.skip_checks = false;
  options.check_only = true;
  net.tcp = [](const std::string& host, uint16_t) {
    return host == "ztd.dds.microsoft.com" ? Status::Unavailable("timed out") : Status::Ok();
  };
  EXPECT_EQ(Run(), kExitChecksFailed);
  ASSERT_EQ(ui.checks.size(), 1u);
  EXPECT_EQ(Posts(), 0);
  net.tcp = [](const std::string&, uint16_t) { return Status::Ok(); };
  EXPECT_EQ(Run(), kExitCompleted);
}

TEST_F(ClientAppTest, UnreachableServerFailsWithTheReason) {
  testing::FakeHttpClient down([](const HttpRequest&) -> Result<HttpResponse> {
    return Status::Unavailable("Could not resolve host: apm.example");
  });
  ClientEnvironment env{&down, &net, hardware.get(), &profile, &clock, &restarter, &ui};
  EXPECT_EQ(RunClient(options, env), kExitServerError);
  EXPECT_THAT(ui.screens.back().detail, HasSubstr("Could not resolve host"));
}

TEST_F(ClientAppTest, VerboseLogNeverHoldsTheHash) {
  EXPECT_EQ(Run(), kExitCompleted);
  std::string hash = hardware->Read()->hardware_hash;
  ASSERT_FALSE(ui.logs.empty());
  for (const std::string& line : ui.logs) {
    EXPECT_EQ(line.find(hash.substr(0, 40)), std::string::npos) << line;
  }
}

}  // namespace
}  // namespace apm::client
