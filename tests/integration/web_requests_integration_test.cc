// Requests through the pages end to end: bulk uploads, approvals, self-service, the
// client's diagnostics reaching the helpdesk, and the status page, with the real apm-server,
// apm-tenant-sim and (for diagnostics) the POSIX client.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>

#include "core/diagnostics_bundle.h"
#include "core/zip_reader.h"
#include "core/zip_writer.h"
#include "web_test_fixture.h"

namespace apm::itest {
namespace {

// Issue 15's bulk intake through the page: a reseller's 600-row file (UTF-16) with four bad
// rows; the page lists each bad row with its line and reason, and "approve all" imports the 597
// others, never throttled by the simulator at Intune's documented limits.
TEST_F(WebTest, AnApproverUploadsA600RowFileAndApprovesItTogether) {
  Start();
  Browser approver;
  SignIn(approver, "approver@contoso.example");
  Page form = approver.Get(base_ + "/autopilot/upload");
  ASSERT_EQ(form.status, 200) << form.body;
  EXPECT_THAT(form.body, HasSubstr("enctype=\"multipart/form-data\""));
  const std::string csv = ResellerCsv("PF6WEB", 600);
  ASSERT_GT(csv.size(), 64u * 1024) << "larger than any other request may be";
  Page result = approver.PostFile(base_ + "/autopilot/upload", {{"csrf", Csrf(form.body)}},
                                  "reseller.csv", csv);
  ASSERT_EQ(result.status, 200) << result.body.substr(0, 2000);
  // The page is large: each check says what it missed, not the whole page.
  for (const char* text :
       {"reseller.csv: 601 rows. 597 new requests, 0 already open, 4 refused.",
        "<tr><td>19</td><td>PF6WEB1017</td><td>the Hardware Hash cannot be read",
        "<tr><td>32</td><td>PF6WEB1030</td><td>The device information does not match its "
        "hardware hash",
        "PF6WEBOTHER1", "<tr><td>43</td><td></td><td>no Device Serial Number",
        "<tr><td>602</td><td></td><td>3 columns where the header has 4", "Approve all 597",
        "<tr><td>601</td><td>PF6WEB1599</td>"}) {
    EXPECT_NE(result.body.find(text), std::string::npos) << "missing: " << text;
  }
  std::map<std::string, std::string> fields = HiddenFields(result.body);
  std::vector<std::string> ids;
  for (size_t i = 0, end; i < fields["ids"].size(); i = end + 1) {
    end = std::min(fields["ids"].find(' ', i), fields["ids"].size());
    ids.push_back(fields["ids"].substr(i, end - i));
  }
  ASSERT_EQ(ids.size(), 597u);
  EXPECT_EQ(StateOf(ids.front()), "pending_approval") << "nothing is imported before approval";

  // The same file again: nothing new, every request already open.
  Page again = approver.PostFile(base_ + "/autopilot/upload", {{"csrf", Csrf(form.body)}},
                                 "reseller.csv", csv);
  EXPECT_NE(again.body.find("0 new requests, 597 already open, 4 refused."), std::string::npos);

  Page approved =
      approver.Post(base_ + "/autopilot/upload/approve", {{"csrf", fields["csrf"]},
                                                          {"ids", fields["ids"]},
                                                          {"group_tag", "Shared"},
                                                          {"comment", "reseller delivery 42"}});
  ASSERT_EQ(approved.status, 200) << approved.body.substr(0, 2000);
  EXPECT_THAT(approved.body, HasSubstr("597 approved"));
  std::set<std::string> open(ids.begin(), ids.end());
  for (auto end = std::chrono::steady_clock::now() + std::chrono::seconds(180);
       !open.empty() && std::chrono::steady_clock::now() < end;) {
    for (auto it = open.begin(); it != open.end();) {
      std::string state = StateOf(*it);
      EXPECT_NE(state, "failed") << *it;
      it = state == "completed" || state == "failed" ? open.erase(it) : std::next(it);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  EXPECT_TRUE(open.empty()) << open.size() << " not completed";
  json stats = json::parse(Http("GET", sim_->url() + "/_sim/stats").body);
  EXPECT_EQ(stats["throttled"], 0) << stats.dump();
  EXPECT_EQ(stats["importsBySerial"].size(), 597u);
  // Odd rows carry Group Tag Kiosk; the others got the tag chosen on the page.
  json devices = json::parse(Http("GET", sim_->url() + "/_sim/devices").body);
  std::map<std::string, std::string> tag_of;
  for (const json& d : devices["autopilotDevices"]) tag_of[d["serialNumber"]] = d["groupTag"];
  EXPECT_EQ(tag_of["PF6WEB1001"], "Kiosk");
  EXPECT_EQ(tag_of["PF6WEB1002"], "Shared");
  Page history = approver.Get(base_ + "/autopilot/" + ids.front());
  EXPECT_THAT(history.body, HasSubstr("reseller delivery 42"));
}

// A broken form, a file that is no CSV and a file over MaxUploadBytes are refused saying what
// was wrong, and store nothing.
TEST_F(WebTest, UploadsThatCannotBeReadSayWhyAndStoreNothing) {
  Start("MaxUploadBytes = 1048576\n");
  Browser approver;
  SignIn(approver, "approver@contoso.example");
  std::string csrf = Csrf(approver.Get(base_ + "/autopilot/upload").body);
  Page no_csv = approver.PostFile(base_ + "/autopilot/upload", {{"csrf", csrf}}, "photo.jpg",
                                  "\xFF\xD8\xFF\xE0 not a csv");
  EXPECT_EQ(no_csv.status, 400);
  EXPECT_THAT(no_csv.body, HasSubstr("Nothing was stored: "));
  Page empty = approver.PostFile(base_ + "/autopilot/upload", {{"csrf", csrf}}, "empty.csv", "");
  EXPECT_EQ(empty.status, 400);
  EXPECT_THAT(empty.body, HasSubstr("Choose a CSV file"));
  Page cut = approver.Post(base_ + "/autopilot/upload", {},
                           {"Content-Type: multipart/form-data; boundary=xyz"});
  EXPECT_EQ(cut.status, 400);
  EXPECT_THAT(cut.body, HasSubstr("The form could not be read: the body has no part boundary"));
  Page huge = approver.PostFile(base_ + "/autopilot/upload", {{"csrf", csrf}}, "huge.csv",
                                ResellerCsv("PF6HUGE", 140));  // over 1 MiB in UTF-16
  EXPECT_EQ(huge.status, 413);
  EXPECT_THAT(huge.body, HasSubstr("larger than 1048576 bytes"));
  EXPECT_EQ(StoredRequests(), "0") << "nothing was stored";
}

TEST_F(WebTest, AnExpiredRequestIsNotApprovedEvenBeforeTheSweep) {
  Start();
  Browser approver;
  SignIn(approver, "approver@contoso.example");
  std::string id = Submit("EXPIRED-1");
  // Its approval time runs out (as if Timeout minutes had passed).
  ASSERT_EQ(std::system(("sqlite3 " + server_->data_dir() +
                         "/apm.db \"UPDATE requests SET expires_at = 1 WHERE id = '" + id + "'\"")
                            .c_str()),
            0);
  Page page = approver.Get(base_ + "/autopilot/" + id);
  ASSERT_EQ(page.status, 200);
  EXPECT_THAT(page.body, HasSubstr("This request has expired"));
  EXPECT_THAT(page.body, Not(HasSubstr("class=\"approve\"")));
  Page approve = approver.Post(base_ + "/autopilot/" + id + "/approve",
                               {{"csrf", Csrf(page.body)}, {"group_tag", "Kiosk"}});
  EXPECT_EQ(approve.status, 409);
  EXPECT_THAT(approve.body, HasSubstr("expired"));
  EXPECT_NE(StateOf(id), "approved");
}

TEST_F(WebTest, SelfServiceApprovalImportsTheDeviceForTheUser) {
  Start("UseApprovalUserAsAssignedUser = true\n", /*approval_mode=*/false);
  std::string id = Submit("SELF-1");
  Browser user;
  Page landed = user.Follow(SignIn(user, "user@contoso.example", "/autopilot/" + id));
  ASSERT_EQ(landed.status, 200) << landed.body;
  EXPECT_THAT(landed.body, HasSubstr("SELF-1"));
  EXPECT_THAT(landed.body, Not(HasSubstr("name=\"group_tag\"")));  // no approver fields
  Page done = user.Post(base_ + "/autopilot/" + id + "/approve", {{"csrf", Csrf(landed.body)}});
  EXPECT_EQ(done.status, 303) << done.body;
  for (int i = 0; i < 200 && StateOf(id) != "completed"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(StateOf(id), "completed");
  // The approving user became the device's assigned user in the tenant.
  json devices = json::parse(Http("GET", sim_->url() + "/_sim/devices").body);
  EXPECT_THAT(devices.dump(), HasSubstr("user@contoso.example"));
  // The history has the job with who approved it and its step-by-step timeline.
  Browser viewer;
  SignIn(viewer, "viewer@contoso.example");
  Page csv = viewer.Get(base_ + "/autopilot/view-imports.csv");
  ASSERT_EQ(csv.status, 200);
  EXPECT_THAT(csv.body, HasSubstr(id));
  EXPECT_THAT(csv.body, HasSubstr("\"user@contoso.example\""));
  EXPECT_THAT(csv.body, HasSubstr("\"completed\""));
  EXPECT_THAT(csv.body, HasSubstr("Waiting for approval · "));
  EXPECT_THAT(csv.body, HasSubstr("Waiting for the Autopilot profile to be assigned"));
  Page page = viewer.Get(base_ + "/autopilot/view-imports?state=completed");
  EXPECT_THAT(page.body, HasSubstr("SELF-1"));
  EXPECT_THAT(viewer.Get(base_ + "/autopilot/view-imports?state=failed").body,
              Not(HasSubstr("SELF-1")));
  // Filter by the day of approval (UTC): today has it, a day long ago not; a bad date is named.
  std::time_t now = std::time(nullptr);
  char today[16];
  std::strftime(today, sizeof today, "%Y-%m-%d", std::gmtime(&now));
  EXPECT_THAT(viewer.Get(base_ + "/autopilot/view-imports?from=" + today + "&to=" + today).body,
              HasSubstr("SELF-1"));
  EXPECT_THAT(viewer.Get(base_ + "/autopilot/view-imports?from=2001-01-01&to=2001-01-02").body,
              Not(HasSubstr("SELF-1")));
  Page bad_date = viewer.Get(base_ + "/autopilot/view-imports?from=yesterday");
  EXPECT_EQ(bad_date.status, 400);
  EXPECT_THAT(bad_date.body, HasSubstr("YYYY-MM-DD"));
}

// Runs the POSIX client (stdin closed, so it asks nothing) and returns its exit code and output.
std::pair<int, std::string> RunAp(const std::vector<std::string>& args) {
  std::string command = APM_CLIENT_BINARY;
  for (const std::string& a : args) command += " '" + a + "'";
  command += " </dev/null 2>&1";
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  if (!p) return {-1, "cannot start ap"};
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

// Issue 19's acceptance with the POSIX client: `ap --collect-diagnostics` after a request sends
// its bundle to that request; approvers and viewers find it on the request's page and download
// it, a general user does not; it holds no hash; it goes when the request is purged.
TEST_F(WebTest, DiagnosticsFromTheClientReachTheHelpdeskAndGoWithTheRequest) {
  Start("MaintenanceIntervalSeconds = 1\n");
  const std::string serial = "DIAG-E2E-1";
  const std::string hash = LaptopHash(serial);
  const std::string dir = ::testing::TempDir() + "apm-web-diagnostics";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string device = dir + "/device.json";
  std::ofstream(device) << json{
      {"serialNumber", serial},
      {"manufacturer", "LENOVO"},
      {"model", "21R3001BUK"},
      {"hardwareHash", hash}}.dump();
  const std::vector<std::string> common = {base_,  "--allow-http", "--skip-checks", "--device-file",
                                           device, "--state-dir",  dir + "/state"};
  std::vector<std::string> submit = common;
  submit.push_back("--no-wait");
  auto [submitted, submit_out] = RunAp(submit);
  ASSERT_EQ(submitted, 0) << submit_out;
  std::ifstream saved(dir + "/state/request.json");
  const std::string id = json::parse(saved, nullptr, false).value("requestId", "");
  ASSERT_FALSE(id.empty()) << submit_out;

  std::vector<std::string> collect = common;
  collect.insert(collect.begin(), "--collect-diagnostics");
  auto [collected, collect_out] = RunAp(collect);
  ASSERT_EQ(collected, 0) << collect_out;
  EXPECT_THAT(collect_out,
              HasSubstr("The diagnostics were sent to your helpdesk with request " + id));

  const std::string link = "/autopilot/" + id + "/diagnostics/1";
  Browser approver, viewer, general;
  SignIn(approver, "approver@contoso.example");
  SignIn(viewer, "viewer@contoso.example");
  SignIn(general, "user@contoso.example");
  for (Browser* helpdesk : {&approver, &viewer}) {
    Page page = helpdesk->Get(base_ + "/autopilot/" + id);
    ASSERT_EQ(page.status, 200) << page.body;
    EXPECT_THAT(page.body, HasSubstr("Diagnostics from the device"));
    EXPECT_THAT(page.body, HasSubstr("href=\"" + link + "\""));
    EXPECT_THAT(page.body, HasSubstr("ap-diagnostics-" + serial + "-"));
    Page zip = helpdesk->Get(base_ + link);
    ASSERT_EQ(zip.status, 200);
    Result<std::vector<StoredZipEntry>> files = ReadStoredZip(zip.body);
    ASSERT_TRUE(files.ok()) << files.status().ToString();
    // Searched for plainly (not with the HashSpotter that let it in): any 24 characters of the
    // hash that are not its padding.
    for (size_t at = 0; at + 24 <= hash.size(); at += 12) {
      const std::string run = hash.substr(at, 24);
      if (std::set<char>(run.begin(), run.end()).size() < 3) continue;
      EXPECT_EQ(zip.body.find(run), std::string::npos) << "the bundle holds " << run;
    }
    bool summary = false;
    for (const StoredZipEntry& f : *files) {
      if (f.name == "summary.txt") summary = f.bytes.find(id) != std::string::npos;
    }
    EXPECT_TRUE(summary) << "the summary names the request";
  }
  // The route takes a bundle far larger than other API bodies (MaxBodyBytes, 64 KiB), up to 8 MiB.
  std::string large;
  for (int i = 0; large.size() < 1024 * 1024; ++i) large += "log line " + std::to_string(i) + "\n";
  HttpResult big =
      Http("POST", base_ + "/api/v1/requests/" + id + "/diagnostics?name=ap-diagnostics-big.zip",
           *ZipStored({{"ap.log", large}}, std::chrono::system_clock::now()),
           {"Content-Type: application/zip"});
  EXPECT_EQ(big.status, 201) << big.body;
  HttpResult huge =
      Http("POST", base_ + "/api/v1/requests/" + id + "/diagnostics?name=ap-diagnostics-huge.zip",
           std::string(kMaxDiagnosticsBytes + 1, 'x'), {"Content-Type: application/zip"});
  EXPECT_EQ(huge.status, 413);
  Page general_page = general.Get(base_ + "/autopilot/" + id);
  ASSERT_EQ(general_page.status, 200);
  EXPECT_THAT(general_page.body, Not(HasSubstr("Diagnostics from the device")));
  Page refused = general.Get(base_ + link);
  EXPECT_EQ(refused.status, 403);
  EXPECT_THAT(refused.body, HasSubstr("Access denied"));
  Page audit = viewer.Get(base_ + "/autopilot/audit.csv");
  EXPECT_THAT(audit.body, HasSubstr("diagnostics_upload"));
  EXPECT_THAT(audit.body, HasSubstr("diagnostics_download"));

  // Rejected, then older than the history kept: the purge takes the bundle with the request.
  Page page = approver.Get(base_ + "/autopilot/" + id);
  ASSERT_EQ(
      approver.Post(base_ + "/autopilot/" + id + "/reject", {{"csrf", Csrf(page.body)}}).status,
      303);
  ASSERT_EQ(std::system(("sqlite3 " + server_->data_dir() +
                         "/apm.db \"UPDATE requests SET finished_at = 1 WHERE id = '" + id + "'\"")
                            .c_str()),
            0);
  std::string left = "1";
  for (int i = 0; i < 100 && left != "0"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::string cmd =
        "sqlite3 " + server_->data_dir() + "/apm.db 'SELECT count(*) FROM request_diagnostics'";
    left.clear();
    if (FILE* p = popen(cmd.c_str(), "r")) {
      char buf[64];
      while (fgets(buf, sizeof buf, p)) left += buf;
      pclose(p);
    }
    while (!left.empty() && left.back() == '\n') left.pop_back();
  }
  EXPECT_EQ(left, "0") << "the bundle went with its request";
  EXPECT_EQ(approver.Get(base_ + link).status, 404);
  std::filesystem::remove_all(dir);
}

TEST_F(WebTest, HostileDeviceTextIsEscaped) {
  Start();
  // The hash carries the same text, so the submission verifies and is stored as sent.
  HttpResult r = Http("POST", base_ + "/api/v1/requests",
                      SubmitBody("<script>alert(1)</script>\"'", "LENOVO", "<b>\"x\"</b>"),
                      {"Content-Type: application/json"});
  ASSERT_EQ(r.status, 201) << r.body;
  std::string id = json::parse(r.body)["id"];
  Browser approver;
  SignIn(approver, "approver@contoso.example");
  for (const std::string& path : {"/autopilot/" + id, std::string("/autopilot/approve-requests")}) {
    Page page = approver.Get(base_ + path);
    ASSERT_EQ(page.status, 200);
    EXPECT_THAT(page.body, Not(HasSubstr("<script>alert")));
    EXPECT_THAT(page.body, HasSubstr("&lt;script&gt;alert(1)&lt;/script&gt;"));
    EXPECT_THAT(page.body, Not(HasSubstr("<b>")));
  }
}

// Security issue 10, finding 7: decisions carry plain text only (control characters would
// reach pages, CSVs and the device's console), like the device's own fields.
TEST_F(WebTest, DecisionTextMustBePlainText) {
  Start();
  std::string id = Submit("TEXT-1");
  Browser approver;
  SignIn(approver, "approver@contoso.example");
  std::string csrf = Csrf(approver.Get(base_ + "/autopilot/" + id).body);
  for (const std::string& comment :
       {std::string("ok\x1b[2J\x1b[31mAPPROVED"), std::string("bell\x07"), std::string("nul\0x", 5),
        std::string("right\u202eto-left")}) {
    Page approve = approver.Post(base_ + "/autopilot/" + id + "/approve",
                                 {{"csrf", csrf}, {"group_tag", "Kiosk"}, {"comment", comment}});
    EXPECT_EQ(approve.status, 400) << comment;
    EXPECT_THAT(approve.body, HasSubstr("comment must not contain"));
  }
  Page reject = approver.Post(base_ + "/autopilot/" + id + "/reject",
                              {{"csrf", csrf}, {"reason", "see \x1b]8;;http://evil\x07"}});
  EXPECT_EQ(reject.status, 400);
  EXPECT_THAT(reject.body, HasSubstr("reason must not contain control characters"));
  EXPECT_EQ(StateOf(id), "pending_approval");  // nothing was decided
  Page ok = approver.Post(base_ + "/autopilot/" + id + "/reject",
                          {{"csrf", csrf}, {"reason", "Wrong model — café"}});
  EXPECT_EQ(ok.status, 303) << ok.body;
  EXPECT_EQ(StateOf(id), "rejected");
}

// Security issue 10, finding 3: under HashVerification = "enforce" (the default) a hash that
// does not decode may be submitted, but only an approver may approve it, never self-service.
TEST_F(WebTest, UnverifiableHashNeedsAnApproverUnderEnforce) {
  Start("", /*approval_mode=*/false);
  json body = json::parse(SubmitBody("ODD-2"));
  body["hardwareHash"] = "T0EAAAAA";
  HttpResult r =
      Http("POST", base_ + "/api/v1/requests", body.dump(), {"Content-Type: application/json"});
  ASSERT_EQ(r.status, 201) << r.body;
  std::string id = json::parse(r.body)["id"];
  Browser user;
  Page landed = user.Follow(SignIn(user, "user@contoso.example", "/autopilot/" + id));
  ASSERT_EQ(landed.status, 200) << landed.body;
  Page denied = user.Post(base_ + "/autopilot/" + id + "/approve", {{"csrf", Csrf(landed.body)}});
  EXPECT_EQ(denied.status, 403);
  EXPECT_THAT(denied.body, HasSubstr("only the helpdesk"));
  EXPECT_EQ(StateOf(id), "pending_approval");
  Browser approver;
  Page page = approver.Follow(SignIn(approver, "approver@contoso.example", "/autopilot/" + id));
  Page approved = approver.Post(base_ + "/autopilot/" + id + "/approve",
                                {{"csrf", Csrf(page.body)}, {"group_tag", "Kiosk"}});
  EXPECT_EQ(approved.status, 303) << approved.body;
  EXPECT_NE(StateOf(id), "pending_approval");
}

TEST_F(WebTest, TheStatusPageShowsImportsFailuresStepTimesAndTheSetUpChecks) {
  server_env_["APM_DOCTOR_INTERVAL_HOURS"] = "24";  // the test configuration turns them off
  Start();
  ASSERT_EQ(Http("POST", sim_->url() + "/_sim/config", R"({"otherTenantSerials": ["STATUS-BAD"]})",
                 {"Content-Type: application/json"})
                .status,
            200);
  std::vector<std::string> ids;
  for (const char* serial : {"STATUS-1", "STATUS-2", "STATUS-BAD"}) {
    ids.push_back(Submit(serial));
    std::string out;
    ASSERT_EQ(server_->RunCommand({"request", "approve", ids.back()}, &out), 0) << out;
  }
  const std::string waiting = Submit("STATUS-WAIT");
  for (int i = 0; i < 300; ++i) {
    if (StateOf(ids[0]) == "completed" && StateOf(ids[1]) == "completed" &&
        StateOf(ids[2]) == "failed") {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(StateOf(ids[2]), "failed");
  Browser viewer;
  SignIn(viewer, "viewer@contoso.example");
  // The set-up checks run in the background from the start, and the figures are read again
  // when older than 10 s (the maintenance timer read them before the imports ended).
  Page page;
  for (int i = 0; i < 200; ++i) {
    page = viewer.Get(base_ + "/autopilot/status");
    if (page.body.find("Checked ") != std::string::npos &&
        page.body.find("<strong>1</strong> failed.") != std::string::npos) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_EQ(page.status, 200);
  const std::vector<std::string> expected = {
      "everything is set up right",
      "Last 30 days: <strong>2</strong> completed, <strong>1</strong> failed.",
      "<svg class=\"chart\"",
      ": 2 completed, 1 failed</title>",  // today's bar
      "<td>808 ZtdDeviceAssignedToOtherTenant",
      "<a href=\"/autopilot/" + ids[2] + "\">",
      "<td>Approval wait</td><td>3</td>",
      "<td>Import</td><td>3</td>",
      "<td>Sync</td><td>2</td>",
      "Approval wait: median ",
      "<strong>1</strong> waiting; the oldest has waited",
      "<dt>Intune writes</dt><dd>",
      "<td>2</td><td>1</td></tr>",  // today in the table by day
  };
  bool all = true;
  for (const std::string& text : expected) {
    const bool found = page.body.find(text) != std::string::npos;
    EXPECT_TRUE(found) << "the page lacks: " << text;
    all &= found;
  }
  EXPECT_EQ(page.body.find(waiting), std::string::npos) << "a waiting request is no failure";
  if (!all) std::cerr << "--- the page:\n" << page.body.substr(0, 20000) << "\n";

  // The same numbers in /metrics.
  std::string metrics = Http("GET", base_ + "/metrics").body;
  for (const char* line :
       {"apm_status_imports_30d{outcome=\"completed\"} 2\n",
        "apm_status_imports_30d{outcome=\"failed\"} 1\n",
        "apm_status_failures_30d{code=\"808\",name=\"ZtdDeviceAssignedToOtherTenant\"} 1\n",
        "apm_status_step_count_30d{step=\"import\"} 3\n",
        "apm_status_step_seconds{step=\"approval\",quantile=\"0.5\"} ",
        "apm_doctor_findings{verdict=\"failed\"} 0\n", "apm_graph_throttled_total 0\n",
        "apm_graph_budget_limit{api=\"intune\",kind=\"writes\"} ",
        "apm_oldest_pending_approval_seconds "}) {
    EXPECT_NE(metrics.find(line), std::string::npos) << "/metrics lacks: " << line;
  }
}

}  // namespace
}  // namespace apm::itest
