#include "client/diagnostics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>

#include "client/client_app.h"
#include "client/file_io.h"
#include "client/resume_state.h"
#include "client/testing/fakes.h"
#include "core/base64.h"
#include "core/hardware_hash.h"
#include "core/sha256.h"
#include "core/testing/hash_builder.h"
#include "core/zip_reader.h"

namespace apm::client {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const auto kNow = std::chrono::sys_days{std::chrono::year(2026) / 11 / 30} +
                  std::chrono::hours(15) + std::chrono::minutes(30) + std::chrono::seconds(12);

std::map<std::string, std::string> Files(const std::string& zip) {
  Result<std::vector<StoredZipEntry>> entries = apm::ReadStoredZip(zip);
  EXPECT_TRUE(entries.ok()) << entries.status().ToString();
  std::map<std::string, std::string> files;
  if (entries.ok()) {
    for (const auto& entry : *entries) files[entry.name] = entry.bytes;
  }
  return files;
}

DeviceFacts LaptopFacts() {
  std::string blob = apm::testing::HashBuilder::Laptop("PF3ABCDE").Build();
  return DeviceFacts{"PF3ABCDE", "LENOVO", "21R3001BUK", Base64Encode(blob), "WMI", ""};
}

TEST(DiagnosticsZipTest, TellsWhatTheClientSawButNeverTheHash) {
  DiagnosticsReport report;
  report.version = "1.2.3";
  report.language = "de";
  report.server = "apm.contoso.com";
  report.request_id = "REQ-1";
  report.checks = std::vector<CheckLine>{{"Clock (server)", CheckOutcome::kFailed, "no answer"}};
  report.facts = LaptopFacts();
  report.profile = "none";
  report.log = {"-> POST https://apm.contoso.com/api/v1/requests", "<- HTTP 201 (512 bytes)"};
  report.system = {{"system/registry.txt", "[HKLM\\SOFTWARE\\Microsoft\\Enrollments]\n"}};
  Result<std::string> zip = DiagnosticsZip(report, kNow);
  ASSERT_TRUE(zip.ok()) << zip.status().ToString();

  std::map<std::string, std::string> files = Files(*zip);
  ASSERT_EQ(files.size(), 4u);
  const std::string& summary = files["summary.txt"];
  EXPECT_THAT(summary, HasSubstr("REQ-1"));
  EXPECT_THAT(summary, HasSubstr("apm.contoso.com"));
  EXPECT_THAT(summary, HasSubstr(HashFingerprint(report.facts->hardware_hash)));
  EXPECT_THAT(summary, HasSubstr("hash serial:"));
  EXPECT_THAT(summary, HasSubstr("hash tpm:"));
  EXPECT_THAT(files["checks.txt"], HasSubstr("FAILED\tClock (server)\tno answer"));
  EXPECT_THAT(files["ap.log"], HasSubstr("HTTP 201"));
  EXPECT_EQ(files["system/registry.txt"], report.system[0].bytes);
  // Neither the hash nor any stretch of its bytes.
  const std::string hash = report.facts->hardware_hash;
  EXPECT_THAT(*zip, Not(HasSubstr(hash.substr(0, 24))));
  EXPECT_THAT(*zip, Not(HasSubstr(hash.substr(hash.size() / 2, 24))));
  std::string blob = *Base64Decode(hash);
  EXPECT_THAT(*zip, Not(HasSubstr(blob.substr(blob.size() / 2, 32))));
}

TEST(DiagnosticsZipTest, ANotReadableDeviceAndNoChecksAreSaidSo) {
  DiagnosticsReport report;
  report.facts_error = "cannot read Win32_BIOS through WMI";
  Result<std::string> zip = DiagnosticsZip(report, kNow);
  ASSERT_TRUE(zip.ok());
  std::map<std::string, std::string> files = Files(*zip);
  EXPECT_THAT(files["summary.txt"], HasSubstr("unreadable: cannot read Win32_BIOS"));
  EXPECT_THAT(files["checks.txt"], HasSubstr("did not run"));
}

TEST(DiagnosticsZipTest, SystemFilesThatWouldPassTheLimitAreLeftOutAndNamed) {
  DiagnosticsReport report;
  report.system = {{"system/small.txt", std::string(100, 's')},
                   {"system/big.txt", std::string(20'000, 'b')}};
  Result<std::string> zip = DiagnosticsZip(report, kNow, 10'000);
  ASSERT_TRUE(zip.ok()) << zip.status().ToString();
  EXPECT_LE(zip->size(), 10'000u);
  std::map<std::string, std::string> files = Files(*zip);
  EXPECT_EQ(files.count("system/big.txt"), 0u);
  EXPECT_EQ(files.count("system/small.txt"), 1u);
  EXPECT_THAT(files["summary.txt"], HasSubstr("system/big.txt (20000 bytes, over the size limit)"));
  EXPECT_FALSE(DiagnosticsZip(report, kNow, 100).ok()) << "the summary alone is larger";
}

// The first 16 characters of `text` from `from` on that are not padding (HashSpotter skips runs
// of one or two characters; the test hash has long ones).
std::string TellingRun(const std::string& text, size_t from) {
  for (size_t at = from; at + 16 <= text.size(); ++at) {
    const std::string run = text.substr(at, 16);
    if (std::set<char>(run.begin(), run.end()).size() >= 3) return run;
  }
  ADD_FAILURE() << "no telling run after " << from;
  return "";
}

TEST(DiagnosticsZipTest, LogLinesAndSystemFilesHoldingPartOfTheHashAreLeftOut) {
  DiagnosticsReport report;
  report.facts = LaptopFacts();
  const std::string hash = report.facts->hardware_hash;
  const std::string blob = *Base64Decode(hash);
  const std::string part = blob.substr(100, 16);
  const std::string hex = ToHex(reinterpret_cast<const uint8_t*>(part.data()), part.size());
  report.log = {"fine", "leaked " + TellingRun(hash, 500) + " here", "also fine"};
  report.system = {{"system/registry.txt", "Blob = hex:" + hex + "\n"},
                   {"system/raw.bin", "x" + TellingRun(blob, 200)},
                   {"system/clean.txt", "nothing of it"}};
  Result<std::string> zip = DiagnosticsZip(report, kNow);
  ASSERT_TRUE(zip.ok());
  std::map<std::string, std::string> files = Files(*zip);
  EXPECT_EQ(files["ap.log"], "fine\nalso fine\n");
  EXPECT_EQ(files.count("system/registry.txt"), 0u);
  EXPECT_EQ(files.count("system/raw.bin"), 0u);
  EXPECT_EQ(files.count("system/clean.txt"), 1u);
  EXPECT_THAT(files["summary.txt"],
              HasSubstr("system/registry.txt (it held part of the hardware hash)"));
  EXPECT_THAT(files["summary.txt"], HasSubstr("1 log line(s)"));
}

TEST(DiagnosticsZipTest, AnInvalidServerIsNamedButNotAsTyped) {
  DiagnosticsReport report;
  report.server_problem = "see ap --help";
  Result<std::string> zip = DiagnosticsZip(report, kNow);
  ASSERT_TRUE(zip.ok());
  std::map<std::string, std::string> files = Files(*zip);
  EXPECT_THAT(files["summary.txt"], HasSubstr("(not valid: see ap --help)"));
  EXPECT_THAT(files["checks.txt"], HasSubstr("the server address is not valid"));
}

TEST(DiagnosticsZipTest, TheFileNameHasTheSerialAndTheTime) {
  EXPECT_EQ(DiagnosticsFileName("PF3ABCDE", kNow), "ap-diagnostics-PF3ABCDE-20261130-153012.zip");
  EXPECT_EQ(DiagnosticsFileName("A/B:C *1", kNow), "ap-diagnostics-A_B_C__1-20261130-153012.zip");
  EXPECT_EQ(DiagnosticsFileName("", kNow), "ap-diagnostics-unknown-20261130-153012.zip");
  // Every name the client makes is one the server takes, a long serial too.
  for (const std::string& serial : {std::string("PF3ABCDE"), std::string("A/B:C *1"),
                                    std::string(200, 'S'), std::string("\xc3\xa4..")}) {
    EXPECT_TRUE(ValidDiagnosticsFileName(DiagnosticsFileName(serial, kNow))) << serial;
  }
}

struct RunDiagnosticsTest : ::testing::Test {
  testing::FakeHttpClient http{[](const HttpRequest&) { return testing::Answer(200, ""); }};
  testing::FakeNetProbe net;
  testing::FakeHardwareProbe hardware{LaptopFacts()};
  testing::FakeProfileDetector profile;
  testing::FakeDeviceClock clock;
  testing::FakeRestarter restarter;
  testing::RecordingUi ui;
  testing::FakeSystemReport system;
  ClientOptions options;
  std::string folder = ::testing::TempDir() + "apm-diagnostics-" +
                       ::testing::UnitTest::GetInstance()->current_test_info()->name();

  void SetUp() override {
    std::filesystem::remove_all(folder);
    options.collect_diagnostics = true;
    options.diagnostics_folder = folder + "/usb";
    options.state_dir = folder + "/state";
    clock.now = kNow;
    system.files = {{"system/dmi.txt", "sys_vendor=LENOVO\n"}};
  }
  void TearDown() override { std::filesystem::remove_all(folder); }
  ExitCode Run() {
    ClientEnvironment env{&http, &net, &hardware, &profile, &clock, &restarter, &ui, &system};
    return RunClient(options, env);
  }
};

TEST_F(RunDiagnosticsTest, WithoutAServerItWritesTheZipToTheFolderAndSaysWhere) {
  EXPECT_EQ(Run(), kExitCompleted);
  const std::string path = folder + "/usb/ap-diagnostics-PF3ABCDE-20261130-153012.zip";
  Result<std::string> zip = ReadWholeFile(path);
  ASSERT_TRUE(zip.ok()) << zip.status().ToString();
  std::map<std::string, std::string> files = Files(*zip);
  EXPECT_EQ(files["system/dmi.txt"], "sys_vendor=LENOVO\n");
  EXPECT_THAT(files["checks.txt"], HasSubstr("did not run"));
  EXPECT_TRUE(http.requests().empty()) << "no server, no request";
  ASSERT_FALSE(ui.screens.empty());
  EXPECT_EQ(ui.screens.back().tone, Tone::kSuccess);
  EXPECT_THAT(ui.screens.back().status_line, HasSubstr(path));
  ASSERT_EQ(ui.asks.size(), 1u);
  EXPECT_FALSE(ui.asks[0].can_retry);
}

TEST_F(RunDiagnosticsTest, WithAServerItRunsTheChecksAndNamesTheSavedRequest) {
  options.server = "apm.example";
  options.skip_checks = false;
  ASSERT_TRUE(ResumeState(options.state_dir).Save({"https://apm.example", "PF3ABCDE", "R42"}).ok());
  EXPECT_EQ(Run(), kExitCompleted);
  Result<std::string> zip =
      ReadWholeFile(folder + "/usb/ap-diagnostics-PF3ABCDE-20261130-153012.zip");
  ASSERT_TRUE(zip.ok());
  std::map<std::string, std::string> files = Files(*zip);
  EXPECT_THAT(files["summary.txt"], HasSubstr("R42"));
  EXPECT_THAT(files["checks.txt"], HasSubstr("Clock (server)"));
  EXPECT_EQ(ui.checks.size(), 1u) << "the checks are shown as they ran";
}

// `ap --collect-diagnostics SERVER` after a run that failed: the ended request is still the one
// the bundle belongs to; sent, it is not written anywhere else unless a folder is given.
TEST_F(RunDiagnosticsTest, WithAServerItSendsTheBundleToTheDevicesLastRequest) {
  options.server = "apm.example";
  options.diagnostics_folder.clear();
  ResumeState state(options.state_dir);
  ASSERT_TRUE(state.Save({"https://apm.example", "PF3ABCDE", "R42"}).ok());
  state.Clear();  // the request ended
  testing::FakeHttpClient server{[](const HttpRequest& r) {
    if (r.method == "POST") return testing::Answer(201, R"({"diagnostics":{"number":3}})");
    return testing::Answer(200, "");
  }};
  ClientEnvironment env{&server, &net, &hardware, &profile, &clock, &restarter, &ui, &system};
  EXPECT_EQ(RunClient(options, env), kExitCompleted);
  std::vector<HttpRequest> posts;
  for (const HttpRequest& r : server.requests()) {
    if (r.method == "POST") posts.push_back(r);
  }
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(posts[0].url,
            "https://apm.example/api/v1/requests/R42/diagnostics?name="
            "ap-diagnostics-PF3ABCDE-20261130-153012.zip");
  EXPECT_THAT(Files(posts[0].body)["summary.txt"], HasSubstr("R42"));
  EXPECT_EQ(ui.screens.back().tone, Tone::kSuccess);
  EXPECT_EQ(ui.screens.back().status_line,
            "The diagnostics were sent to your helpdesk with request R42.");
  EXPECT_FALSE(std::filesystem::exists("ap-diagnostics-PF3ABCDE-20261130-153012.zip"));
}

// Refused (or unreachable), the bundle goes to the folder and the screen says why.
TEST_F(RunDiagnosticsTest, ABundleTheServerRefusesIsWrittenToTheFolderWithTheReason) {
  options.server = "apm.example";
  ASSERT_TRUE(ResumeState(options.state_dir).Save({"https://apm.example", "PF3ABCDE", "R42"}).ok());
  testing::FakeHttpClient server{[](const HttpRequest& r) {
    if (r.method != "POST") return testing::Answer(200, "");
    return testing::Answer(409, R"({"error":{"code":"too_many_diagnostics",
                                    "message":"this request already has 5 bundles"}})");
  }};
  ClientEnvironment env{&server, &net, &hardware, &profile, &clock, &restarter, &ui, &system};
  EXPECT_EQ(RunClient(options, env), kExitCompleted);
  const std::string path = folder + "/usb/ap-diagnostics-PF3ABCDE-20261130-153012.zip";
  EXPECT_TRUE(ReadWholeFile(path).ok());
  EXPECT_THAT(ui.screens.back().status_line,
              HasSubstr("(this request already has 5 bundles, HTTP 409)"));
  EXPECT_THAT(ui.screens.back().status_line, HasSubstr(path));
}

TEST_F(RunDiagnosticsTest, AServerAddressWithAPasswordNeverReachesTheBundle) {
  options.server = "ftp://helpdesk:s3cret@apm.example";
  EXPECT_EQ(Run(), kExitCompleted);
  Result<std::string> zip =
      ReadWholeFile(folder + "/usb/ap-diagnostics-PF3ABCDE-20261130-153012.zip");
  ASSERT_TRUE(zip.ok());
  EXPECT_EQ(zip->find("s3cret"), std::string::npos);
  EXPECT_THAT(Files(*zip)["summary.txt"], HasSubstr("not valid"));
}

TEST_F(RunDiagnosticsTest, AFolderThatCannotBeWrittenIsAFailureWithTheReason) {
  ASSERT_TRUE(MakeDirectories(folder).ok());
  ASSERT_TRUE(WriteFileAtomically(folder + "/file", "in the way").ok());
  options.diagnostics_folder = folder + "/file";
  EXPECT_EQ(Run(), kExitDiagnosticsFailed);
  EXPECT_EQ(ui.screens.back().tone, Tone::kFailure);
  EXPECT_THAT(ui.screens.back().status_line, HasSubstr(folder + "/file"));
}

}  // namespace
}  // namespace apm::client
