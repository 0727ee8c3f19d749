// Sign-in and the pages end to end: the real apm-server with apm-tenant-sim as its OpenID
// provider (and tenant), driven by a cookie-keeping HTTP client acting as the browser. The
// authorization matrix covers every page route for every kind of visitor.
#include <curl/curl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "core/diagnostics_bundle.h"
#include "core/testing/html_form.h"
#include "core/zip_reader.h"
#include "core/zip_writer.h"
#include "server_process.h"

namespace apm::itest {
namespace {

using apm::testing::HiddenFields;

using json = nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

std::string Encode(const std::map<std::string, std::string>& form) {
  std::string out;
  CURL* curl = curl_easy_init();
  for (const auto& [k, v] : form) {
    char* key = curl_easy_escape(curl, k.c_str(), int(k.size()));
    char* value = curl_easy_escape(curl, v.c_str(), int(v.size()));
    out += (out.empty() ? "" : "&") + std::string(key) + "=" + value;
    curl_free(key);
    curl_free(value);
  }
  curl_easy_cleanup(curl);
  return out;
}

struct Page {
  long status = 0;
  std::string body;
  std::string location;
  std::vector<std::string> set_cookies;
};

// A browser: keeps cookies (libcurl's cookie engine), follows no redirects by itself.
class Browser {
 public:
  Browser() : curl_(curl_easy_init()) { curl_easy_setopt(curl_, CURLOPT_COOKIEFILE, ""); }
  ~Browser() { curl_easy_cleanup(curl_); }

  Page Get(const std::string& url) { return Send("GET", url, ""); }
  Page Post(const std::string& url, const std::map<std::string, std::string>& form,
            std::vector<std::string> headers = {}) {
    return Send("POST", url, Encode(form), std::move(headers));
  }
  // A form with a file, as a browser sends it (libcurl writes the multipart body).
  Page PostFile(const std::string& url, const std::map<std::string, std::string>& fields,
                const std::string& filename, const std::string& content) {
    curl_mime* mime = curl_mime_init(curl_);
    for (const auto& [name, value] : fields) {
      curl_mimepart* part = curl_mime_addpart(mime);
      curl_mime_name(part, name.c_str());
      curl_mime_data(part, value.c_str(), value.size());
    }
    curl_mimepart* file = curl_mime_addpart(mime);
    curl_mime_name(file, "file");
    curl_mime_filename(file, filename.c_str());
    curl_mime_type(file, "text/csv");
    curl_mime_data(file, content.data(), content.size());
    curl_easy_setopt(curl_, CURLOPT_MIMEPOST, mime);
    Page page = Send("MIME", url, "", {"Expect:"});  // as browsers: no 100-continue wait
    curl_easy_setopt(curl_, CURLOPT_MIMEPOST, nullptr);
    curl_mime_free(mime);
    return page;
  }
  // Follows redirects until a page answers.
  Page Follow(Page page) {
    for (int hops = 0; hops < 10 && !page.location.empty(); ++hops) page = Get(page.location);
    return page;
  }
  // A cookie for 127.0.0.1 (Netscape format names the host, so it is surely sent).
  void AddCookie(const std::string& name, const std::string& value) {
    std::string line = "127.0.0.1\tFALSE\t/\tFALSE\t0\t" + name + "\t" + value;
    curl_easy_setopt(curl_, CURLOPT_COOKIELIST, line.c_str());
  }
  void ClearCookies() { curl_easy_setopt(curl_, CURLOPT_COOKIELIST, "ALL"); }

 private:
  static size_t OnBody(char* data, size_t size, size_t n, void* out) {
    static_cast<std::string*>(out)->append(data, size * n);
    return size * n;
  }
  static size_t OnHeader(char* data, size_t size, size_t n, void* out) {
    std::string line(data, size * n);
    auto* page = static_cast<Page*>(out);
    std::string lower = line;
    for (char& c : lower) c = char(std::tolower(static_cast<unsigned char>(c)));
    auto value = [&] {
      std::string v = line.substr(line.find(':') + 1);
      while (!v.empty() && (v.front() == ' ')) v.erase(0, 1);
      while (!v.empty() && (v.back() == '\r' || v.back() == '\n')) v.pop_back();
      return v;
    };
    if (lower.rfind("location:", 0) == 0) page->location = value();
    if (lower.rfind("set-cookie:", 0) == 0) page->set_cookies.push_back(value());
    return size * n;
  }
  Page Send(const std::string& method, const std::string& url, const std::string& body,
            std::vector<std::string> headers = {}) {
    Page page;
    curl_slist* list = nullptr;
    for (const std::string& h : headers) list = curl_slist_append(list, h.c_str());
    curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
    // "MIME": a POST whose body CURLOPT_MIMEPOST already holds.
    curl_easy_setopt(curl_, CURLOPT_CUSTOMREQUEST, method == "MIME" ? "POST" : method.c_str());
    if (method != "MIME") curl_easy_setopt(curl_, CURLOPT_HTTPGET, method == "GET" ? 1L : 0L);
    if (method == "POST") {
      curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, body.c_str());
      curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE, long(body.size()));
    }
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, OnBody);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &page.body);
    curl_easy_setopt(curl_, CURLOPT_HEADERFUNCTION, OnHeader);
    curl_easy_setopt(curl_, CURLOPT_HEADERDATA, &page);
    curl_easy_setopt(curl_, CURLOPT_TIMEOUT, 30L);
    curl_easy_perform(curl_);
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &page.status);
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, nullptr);
    curl_slist_free_all(list);
    if (!page.location.empty() && page.location[0] == '/') {
      size_t host_end = url.find('/', url.find("://") + 3);
      page.location = url.substr(0, host_end) + page.location;
    }
    return page;
  }
  CURL* curl_;
};

constexpr char kTenant[] = "00000000-0000-4000-8000-000000000001";

class WebTest : public ::testing::Test {
 protected:
  // The simulator (tenant and identity provider), then the server on a port known in advance
  // (the simulator must register its redirect URI).
  void Start(const std::string& extra_config = "", bool approval_mode = true,
             const std::string& tenant_for_server = kTenant) {
    port_ = ServerProcess::FreePort();
    base_ = "http://127.0.0.1:" + std::to_string(port_);
    sim_ = ServerProcess::TenantSim(
        {"--admin", "--tenant-id", kTenant, "--redirect-uri=" + base_ + "/signin-oidc",
         "--post-logout-redirect-uri=" + base_ + "/signout-callback-oidc", "--import-delay-ms=300",
         "--sync-visible-delay-ms=200", "--sync-delay-ms=500", "--profile-delay-ms=300",
         std::string("--profile-group-id=") + kSimProfileGroup});
    ASSERT_TRUE(sim_->Start()) << sim_->log();
    json users = json::parse(Http("GET", sim_->url() + "/_sim/users").body);
    for (const json& u : users["users"]) oid_[u["userPrincipalName"]] = u["id"];
    for (const json& g : users["groups"]) group_[g["displayName"]] = g["id"];
    std::string config =
        SimTenantConfig(sim_->url(), tenant_for_server) + "SignInAuthority = \"" + sim_->url() +
        "/" + kTenant + "/v2.0\"\n" + "ApprovalMode = " + (approval_mode ? "true" : "false") +
        "\n" + "AuthorizationSecurityGroup = \"" + group_["Autopilot Users"] + "\"\n" +
        "ApproverSecurityGroup = \"" + group_["Autopilot Approvers"] + "\"\n" +
        "ViewerSecurityGroup = \"" + group_["Autopilot Viewers"] + "\"\n" + extra_config;
    server_env_["APM_CLIENT_SECRET"] = "simulator-secret";
    server_ = std::make_unique<ServerProcess>(config, server_env_);
    server_->UsePort(port_);
    ASSERT_TRUE(server_->Start()) << server_->log();
  }

  void TearDown() override {
    if (HasFailure() && server_) std::cerr << "--- server log:\n" << server_->log() << "\n";
  }

  // Signs `browser` in as `upn` through the provider's picker; returns the page it lands on.
  Page SignIn(Browser& browser, const std::string& upn,
              const std::string& path = "/autopilot/approve-requests") {
    Page provider = browser.Get(base_ + "/signin?return=" + path);
    EXPECT_EQ(provider.status, 302);
    Page picker = browser.Get(provider.location);
    EXPECT_EQ(picker.status, 200) << picker.body;
    std::map<std::string, std::string> form = HiddenFields(picker.body);
    form["user"] = oid_[upn];
    std::string action = provider.location.substr(0, provider.location.find('?'));
    Page back = browser.Post(action, form);
    EXPECT_EQ(back.status, 302) << back.body;
    callback_ = back.location;
    return browser.Get(back.location);
  }

  std::string Submit(const std::string& serial) {
    HttpResult r = Http("POST", base_ + "/api/v1/requests", SubmitBody(serial),
                        {"Content-Type: application/json"});
    EXPECT_EQ(r.status, 201) << r.body;
    return json::parse(r.body)["id"];
  }

  std::string StateOf(const std::string& id) {
    return json::parse(Http("GET", base_ + "/api/v1/requests/" + id).body)["state"];
  }

  static std::string Csrf(const std::string& html) { return HiddenFields(html)["csrf"]; }

  // How many requests the server's database holds.
  std::string StoredRequests() const {
    std::string cmd = "sqlite3 " + server_->data_dir() + "/apm.db 'SELECT count(*) FROM requests'";
    std::string out;
    if (FILE* p = popen(cmd.c_str(), "r")) {
      char buf[64];
      while (fgets(buf, sizeof buf, p)) out += buf;
      pclose(p);
    }
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }

  uint16_t port_ = 0;
  std::string base_;
  std::string callback_;
  std::unique_ptr<ServerProcess> sim_, server_;
  std::map<std::string, std::string> oid_, group_;
  std::map<std::string, std::string> server_env_;  // APM_ variables of the server
};

TEST_F(WebTest, AuthorizationMatrix) {
  Start();
  std::string id = Submit("MATRIX-1");
  // A diagnostics bundle from the device, so its download has something to refuse or serve.
  HttpResult bundle =
      Http("POST", base_ + "/api/v1/requests/" + id + "/diagnostics?name=ap-diagnostics-M1.zip",
           *ZipStored({{"summary.txt", "MATRIX-1\n"}}, std::chrono::system_clock::now()),
           {"Content-Type: application/zip"});
  ASSERT_EQ(bundle.status, 201) << bundle.body;
  // Visitors: browsers signed in as each kind of user, or not at all.
  std::map<std::string, std::unique_ptr<Browser>> visitors;
  for (const char* who :
       {"anonymous", "general", "approver", "viewer", "nogroups", "expired", "forged"}) {
    visitors[who] = std::make_unique<Browser>();
  }
  SignIn(*visitors["general"], "user@contoso.example");
  SignIn(*visitors["approver"], "approver@contoso.example");
  SignIn(*visitors["viewer"], "viewer@contoso.example");
  SignIn(*visitors["nogroups"], "nogroups@contoso.example");
  SignIn(*visitors["expired"], "approver@contoso.example");
  visitors["forged"]->AddCookie("apm_session", "AAAAforgedAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
  // Age the "expired" visitor's session past the idle timeout, as the clock would.
  ASSERT_EQ(std::system(("sqlite3 " + server_->data_dir() +
                         "/apm.db \"UPDATE sessions SET last_seen_at = 0 WHERE upn = "
                         "'approver@contoso.example' AND created_at = (SELECT max(created_at) "
                         "FROM sessions)\"")
                            .c_str()),
            0);

  const std::map<std::string, std::map<std::string, long>> expected_get = {
      {"/autopilot/" + id,
       {{"anonymous", 302},
        {"general", 200},
        {"approver", 200},
        {"viewer", 200},
        {"nogroups", 403},
        {"expired", 302},
        {"forged", 302}}},
      // What the device sent its helpdesk: approvers and viewers only.
      {"/autopilot/" + id + "/diagnostics/1",
       {{"anonymous", 302},
        {"general", 403},
        {"approver", 200},
        {"viewer", 200},
        {"nogroups", 403},
        {"expired", 302},
        {"forged", 302}}},
      {"/autopilot/approve-requests",
       {{"anonymous", 302},
        {"general", 403},
        {"approver", 200},
        {"viewer", 403},
        {"nogroups", 403},
        {"expired", 302},
        {"forged", 302}}},
      {"/autopilot/upload",
       {{"anonymous", 302},
        {"general", 403},
        {"approver", 200},
        {"viewer", 403},
        {"nogroups", 403},
        {"expired", 302},
        {"forged", 302}}},
      {"/autopilot/status",
       {{"anonymous", 302},
        {"general", 403},
        {"approver", 403},
        {"viewer", 200},
        {"nogroups", 403},
        {"expired", 302},
        {"forged", 302}}},
      {"/autopilot/view-imports",
       {{"anonymous", 302},
        {"general", 403},
        {"approver", 403},
        {"viewer", 200},
        {"nogroups", 403},
        {"expired", 302},
        {"forged", 302}}},
      {"/autopilot/view-imports.csv",
       {{"anonymous", 302},
        {"general", 403},
        {"approver", 403},
        {"viewer", 200},
        {"nogroups", 403},
        {"expired", 302},
        {"forged", 302}}},
      {"/autopilot/audit",
       {{"anonymous", 302},
        {"general", 403},
        {"approver", 403},
        {"viewer", 200},
        {"nogroups", 403},
        {"expired", 302},
        {"forged", 302}}},
      {"/autopilot/audit.csv",
       {{"anonymous", 302},
        {"general", 403},
        {"approver", 403},
        {"viewer", 200},
        {"nogroups", 403},
        {"expired", 302},
        {"forged", 302}}},
  };
  for (const auto& [path, by_visitor] : expected_get) {
    for (const auto& [who, status] : by_visitor) {
      Page page = visitors[who]->Get(base_ + path);
      EXPECT_EQ(page.status, status) << who << " GET " << path << "\n" << page.body;
      if (status == 302) {
        EXPECT_THAT(page.location, HasSubstr("/signin?return=")) << who << path;
      }
      if (status == 403) {
        EXPECT_THAT(page.body, HasSubstr("Access denied")) << who << path;
      }
    }
  }
  // Decisions: each visitor posts with the CSRF token of a page they may see (none: empty).
  std::string approver_csrf = Csrf(visitors["approver"]->Get(base_ + "/autopilot/" + id).body);
  std::string general_csrf = Csrf(visitors["general"]->Get(base_ + "/autopilot/" + id).body);
  ASSERT_FALSE(approver_csrf.empty());
  // Every signed-in page carries the session's token (the sign-out form), so each visitor
  // posts with their own valid token and only the role decides.
  auto own_csrf = [&](const std::string& who) {
    return Csrf(visitors[who]->Get(base_ + "/autopilot/" + id).body);
  };
  ASSERT_FALSE(own_csrf("viewer").empty());
  ASSERT_FALSE(own_csrf("nogroups").empty());
  const std::map<std::string, std::pair<std::string, long>> expected_reject = {
      {"anonymous", {"", 401}},
      {"expired", {"", 401}},
      {"forged", {"", 401}},
      {"nogroups", {own_csrf("nogroups"), 403}},
      {"viewer", {own_csrf("viewer"), 403}},
      {"general", {general_csrf, 403}},  // ApprovalMode: only approvers decide
  };
  for (const auto& [who, attempt] : expected_reject) {
    for (const char* action : {"approve", "reject"}) {
      Page page = visitors[who]->Post(base_ + "/autopilot/" + id + "/" + action,
                                      {{"csrf", attempt.first}, {"reason", "no"}});
      EXPECT_EQ(page.status, attempt.second) << who << " POST " << action << "\n" << page.body;
    }
    // Uploads and their approval need the approver role.
    for (const char* path : {"/autopilot/upload", "/autopilot/upload/approve"}) {
      Page page = visitors[who]->Post(
          base_ + path, {{"csrf", attempt.first}, {"ids", id}, {"group_tag", "Kiosk"}});
      EXPECT_EQ(page.status, attempt.second) << who << " POST " << path << "\n" << page.body;
    }
    // Sign-out needs a session and its token too.
    if (attempt.second == 401) {
      EXPECT_EQ(visitors[who]->Post(base_ + "/signout", {{"csrf", ""}}).status, 401) << who;
    }
  }
  // Another session's token does not count (the approver's token in the viewer's post).
  EXPECT_EQ(visitors["viewer"]
                ->Post(base_ + "/autopilot/" + id + "/approve", {{"csrf", approver_csrf}})
                .status,
            403);
  EXPECT_EQ(StateOf(id), "pending_approval");  // nobody above changed anything
  // The QR link of ap.exe 1.x leads to the request's page, for everyone.
  for (const auto& [who, browser] : visitors) {
    Page old_link = browser->Get(base_ + "/autopilot/" + id + "/save-information");
    EXPECT_EQ(old_link.status, 302) << who;
    EXPECT_EQ(old_link.location, base_ + "/autopilot/" + id) << who;
  }
  Page approved = visitors["approver"]->Post(
      base_ + "/autopilot/" + id + "/approve",
      {{"csrf", approver_csrf}, {"group_tag", "Kiosk"}, {"comment", "matrix"}});
  EXPECT_EQ(approved.status, 303) << approved.body;
  EXPECT_NE(StateOf(id), "pending_approval");
}

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

TEST_F(WebTest, CsrfAndStateChecks) {
  Start();
  Browser approver;
  SignIn(approver, "approver@contoso.example");
  std::string id = Submit("CSRF-1");
  std::string csrf = Csrf(approver.Get(base_ + "/autopilot/" + id).body);
  // No token, a wrong token, a foreign Origin: refused, nothing changes.
  EXPECT_EQ(approver.Post(base_ + "/autopilot/" + id + "/approve", {{"group_tag", "Kiosk"}}).status,
            403);
  EXPECT_EQ(approver
                .Post(base_ + "/autopilot/" + id + "/approve",
                      {{"csrf", csrf + "x"}, {"group_tag", "Kiosk"}})
                .status,
            403);
  Page cross =
      approver.Post(base_ + "/autopilot/" + id + "/approve",
                    {{"csrf", csrf}, {"group_tag", "Kiosk"}}, {"Origin: https://evil.example"});
  EXPECT_EQ(cross.status, 403);
  EXPECT_THAT(cross.body, HasSubstr("another site"));
  EXPECT_EQ(StateOf(id), "pending_approval");
  // An unknown group tag is refused; a good decision goes through once.
  EXPECT_EQ(
      approver
          .Post(base_ + "/autopilot/" + id + "/approve", {{"csrf", csrf}, {"group_tag", "Bogus"}})
          .status,
      400);
  EXPECT_EQ(
      approver
          .Post(base_ + "/autopilot/" + id + "/reject", {{"csrf", csrf}, {"reason", "wrong desk"}})
          .status,
      303);
  EXPECT_EQ(StateOf(id), "rejected");
  Page again = approver.Post(base_ + "/autopilot/" + id + "/approve",
                             {{"csrf", csrf}, {"group_tag", "Kiosk"}});
  EXPECT_EQ(again.status, 409);
  EXPECT_THAT(again.body, HasSubstr("rejected"));
  EXPECT_EQ(StateOf(id), "rejected");
}

TEST_F(WebTest, SignInAnswersCannotBeReplayedOrForeign) {
  Start();
  Browser ada;
  Page landed = SignIn(ada, "approver@contoso.example");
  EXPECT_EQ(landed.status, 302);  // to the page it came for
  // The same answer again (a replay), even with the sign-in cookie it had: refused, used once.
  std::string used_state = callback_.substr(callback_.find("state=") + 6);
  used_state = used_state.substr(0, used_state.find('&'));
  ada.AddCookie("apm_signin", used_state);
  Page replay = ada.Get(callback_);
  EXPECT_EQ(replay.status, 403);
  EXPECT_THAT(replay.body, HasSubstr("already used"));
  // An answer carried to another browser (login CSRF): refused, it started no sign-in there.
  Browser other;
  Browser eve;
  eve.Get(base_ + "/signin");
  Page provider = other.Get(base_ + "/signin");
  Page picker = other.Get(provider.location);
  auto form = HiddenFields(picker.body);
  form["user"] = oid_["approver@contoso.example"];
  Page back = other.Post(provider.location.substr(0, provider.location.find('?')), form);
  Page foreign = eve.Get(back.location);
  EXPECT_EQ(foreign.status, 403);
  // An error from the provider is shown, not a crash.
  Page error =
      ada.Get(base_ + "/signin-oidc?error=access_denied&error_description=cancelled&state=x");
  EXPECT_EQ(error.status, 403);
  EXPECT_THAT(error.body, HasSubstr("access_denied"));
  // The audit trail has the failures, with the address.
  Browser viewer;
  SignIn(viewer, "viewer@contoso.example");
  Page audit = viewer.Get(base_ + "/autopilot/audit.csv");
  EXPECT_THAT(audit.body, HasSubstr("sign_in_failed"));
  EXPECT_THAT(audit.body, HasSubstr("127.0.0.1"));
}

TEST_F(WebTest, ForgedAndBrokenTokensAreRefused) {
  Start();
  const std::map<std::string, std::string> faults = {
      {"alg-none", "&quot;none&quot; is not accepted"},
      {"hs256", "&quot;HS256&quot; is not accepted"},
      {"tampered", "signature"},
      {"expired", "expired"},
      {"wrong-audience", "another application"},
      {"wrong-nonce", "nonce"}};
  for (const auto& [fault, reason] : faults) {
    ASSERT_EQ(Http("POST", sim_->url() + "/_sim/id-token-fault", json{{"fault", fault}}.dump(),
                   {"Content-Type: application/json"})
                  .status,
              200);
    Browser b;
    Page page = SignIn(b, "approver@contoso.example");
    EXPECT_EQ(page.status, 403) << fault;
    EXPECT_THAT(page.body, HasSubstr(reason)) << fault;
    EXPECT_EQ(b.Get(base_ + "/autopilot/approve-requests").status, 302) << fault << ": no session";
  }
  Http("POST", sim_->url() + "/_sim/id-token-fault", R"({"fault":""})",
       {"Content-Type: application/json"});
  Browser good;
  SignIn(good, "approver@contoso.example");
  EXPECT_EQ(good.Get(base_ + "/autopilot/approve-requests").status, 200);
}

TEST_F(WebTest, UsersOfAnotherTenantAreRefused) {
  Start("", true, "22222222-2222-4222-8222-222222222222");
  Browser b;
  Page page = SignIn(b, "approver@contoso.example");
  EXPECT_EQ(page.status, 403);
  EXPECT_THAT(page.body, HasSubstr("another tenant"));
  EXPECT_EQ(b.Get(base_ + "/autopilot/approve-requests").status, 302);  // no session
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

TEST_F(WebTest, OverageGroupsAreResolvedThroughGraph) {
  Start("", /*approval_mode=*/false);
  std::string id = Submit("OVER-1");
  Browser user;
  Page landed = user.Follow(SignIn(user, "overage@contoso.example", "/autopilot/" + id));
  EXPECT_EQ(landed.status, 200) << landed.body;
  EXPECT_THAT(landed.body, HasSubstr("OVER-1"));
}

TEST_F(WebTest, SignInReturnsToThePageAskedFor) {
  Start();
  std::string id = Submit("RETURN-1");
  Browser b;
  Page asked = b.Get(base_ + "/autopilot/" + id + "?from=qr");
  ASSERT_EQ(asked.status, 302);
  Page provider = b.Get(asked.location);  // /signin?return=%2Fautopilot%2F…
  Page picker = b.Get(provider.location);
  auto form = HiddenFields(picker.body);
  form["user"] = oid_["approver@contoso.example"];
  Page back = b.Post(provider.location.substr(0, provider.location.find('?')), form);
  Page landed = b.Get(back.location);
  EXPECT_EQ(landed.location, base_ + "/autopilot/" + id + "?from=qr");
  // A return address on another site is not followed.
  Page evil = b.Get(base_ + "/signin?return=%2F%2Fevil.example%2F");
  Page evil_picker = b.Get(evil.location);
  auto evil_form = HiddenFields(evil_picker.body);
  evil_form["user"] = oid_["approver@contoso.example"];
  Page evil_back = b.Post(evil.location.substr(0, evil.location.find('?')), evil_form);
  EXPECT_EQ(b.Get(evil_back.location).location, base_ + "/");
}

TEST_F(WebTest, SignOutEndsTheSession) {
  Start();
  Browser b;
  SignIn(b, "approver@contoso.example");
  Page list = b.Get(base_ + "/autopilot/approve-requests");
  ASSERT_EQ(list.status, 200);
  Page out = b.Post(base_ + "/signout", {{"csrf", Csrf(list.body)}});
  EXPECT_EQ(out.status, 303);
  EXPECT_THAT(out.location, HasSubstr("/oauth2/v2.0/logout"));
  EXPECT_EQ(b.Get(base_ + "/autopilot/approve-requests").status, 302);
}

// Over plain http, as here, the names carry no __Host- prefix and no Secure (both come with
// https: SessionManager::Attributes); the rest holds either way.
TEST_F(WebTest, SessionCookiesAreHttpOnlySameSiteAndEndWithTheBrowser) {
  Start();
  Browser b;
  Page landed = SignIn(b, "approver@contoso.example");
  int sessions = 0;
  for (const std::string& cookie : landed.set_cookies) {
    if (cookie.rfind("apm_session=", 0) != 0) continue;
    ++sessions;
    EXPECT_THAT(cookie, HasSubstr("; Path=/")) << cookie;
    EXPECT_THAT(cookie, HasSubstr("; HttpOnly")) << cookie;
    EXPECT_THAT(cookie, HasSubstr("; SameSite=Lax")) << cookie;
    EXPECT_THAT(cookie, Not(HasSubstr("Max-Age"))) << "a session cookie: " << cookie;
    EXPECT_THAT(cookie, Not(HasSubstr("Domain"))) << cookie;
  }
  EXPECT_EQ(sessions, 1) << ::testing::PrintToString(landed.set_cookies);
}

// ASVS 3.4.1/3.4.4: over https (here as a trusted proxy reports it) the cookies carry Secure and
// the __Host- prefix, which also forbids a Domain and needs Path=/ (SessionManager::Attributes
// serves the sign-in and the session cookie alike).
TEST_F(WebTest, OverHttpsCookiesAreSecureAndHostPrefixed) {
  Start("TrustedProxies = [\"127.0.0.1\"]\n");
  HttpResult https = Http("GET", base_ + "/signin?return=/autopilot/approve-requests", "",
                          {"X-Forwarded-Proto: https"});
  EXPECT_EQ(https.status, 302);
  std::string cookie = https.Header("set-cookie");
  EXPECT_EQ(cookie.rfind("__Host-apm_signin=", 0), 0u) << cookie;
  EXPECT_THAT(cookie, HasSubstr("; Path=/; HttpOnly; SameSite=Lax; Secure")) << cookie;
  EXPECT_THAT(cookie, Not(HasSubstr("Domain"))) << cookie;
  std::string plain =
      Http("GET", base_ + "/signin?return=/autopilot/approve-requests").Header("set-cookie");
  EXPECT_EQ(plain.rfind("apm_signin=", 0), 0u) << plain;
  EXPECT_THAT(plain, Not(HasSubstr("Secure"))) << plain;
}

// "apm_session=<id>" as the page set it, or "".
std::string SessionCookieOf(const Page& page) {
  for (const std::string& cookie : page.set_cookies) {
    if (cookie.rfind("apm_session=", 0) == 0) return cookie.substr(0, cookie.find(';'));
  }
  return "";
}

TEST_F(WebTest, EachSignInGetsANewSessionAndTheOldOneEnds) {
  Start();
  Browser b;
  std::string first = SessionCookieOf(SignIn(b, "approver@contoso.example"));
  ASSERT_FALSE(first.empty());
  EXPECT_EQ(Http("GET", base_ + "/autopilot/approve-requests", "", {"Cookie: " + first}).status,
            200);
  std::string second = SessionCookieOf(SignIn(b, "approver@contoso.example"));
  ASSERT_FALSE(second.empty());
  EXPECT_NE(second, first);
  EXPECT_EQ(Http("GET", base_ + "/autopilot/approve-requests", "", {"Cookie: " + first}).status,
            302)
      << "the session before the new sign-in still works";
  EXPECT_EQ(Http("GET", base_ + "/autopilot/approve-requests", "", {"Cookie: " + second}).status,
            200);
}

TEST_F(WebTest, PagesAndTheHomePageCarryTheirSecurityHeaders) {
  Start();
  Browser b;
  std::string session = SessionCookieOf(SignIn(b, "approver@contoso.example"));
  HttpResult page = Http("GET", base_ + "/autopilot/approve-requests", "", {"Cookie: " + session});
  ASSERT_EQ(page.status, 200) << page.body;
  HttpResult home = Http("GET", base_ + "/");
  ASSERT_EQ(home.status, 200) << home.body;
  for (const HttpResult* r : {&page, &home}) {
    EXPECT_THAT(r->Header("content-security-policy"), HasSubstr("default-src 'none'"));
    EXPECT_THAT(r->Header("content-security-policy"), HasSubstr("frame-ancestors 'none'"));
    EXPECT_THAT(r->Header("content-security-policy"), Not(HasSubstr("unsafe-eval")));
    EXPECT_EQ(r->Header("x-frame-options"), "DENY");
    EXPECT_EQ(r->Header("referrer-policy"), "same-origin");
    EXPECT_EQ(r->Header("x-content-type-options"), "nosniff");
    EXPECT_EQ(r->Header("cache-control"), "no-store");
  }
  EXPECT_THAT(page.Header("content-security-policy"), HasSubstr("script-src 'self'"));
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

// Security issue 10, finding 7: one person repeating sign-in starts behind an office NAT
// must not stop the others' sign-ins from completing: the callback has its own bucket.
TEST_F(WebTest, SignInStartsDoNotLockOutCallbacks) {
  Start();
  Browser first;
  Page provider = first.Get(base_ + "/signin");  // a sign-in begun before the flood
  ASSERT_EQ(provider.status, 302);
  Browser flooder;
  long last = 0;
  for (int i = 0; i < 40 && last != 429; ++i) last = flooder.Get(base_ + "/signin").status;
  EXPECT_EQ(last, 429) << "starts are limited per address";
  // The first browser finishes signing in from the same address.
  Page picker = first.Get(provider.location);
  std::map<std::string, std::string> form = HiddenFields(picker.body);
  form["user"] = oid_["approver@contoso.example"];
  Page back = first.Post(provider.location.substr(0, provider.location.find('?')), form);
  ASSERT_EQ(back.status, 302) << back.body;
  Page callback = first.Get(back.location);
  EXPECT_NE(callback.status, 429);
  EXPECT_EQ(first.Follow(callback).status, 200);
}

TEST(WebConfigTest, PartialSignInConfigurationIsAStartUpError) {
  ServerProcess s("ApproverSecurityGroup = \"" + std::string(kSimProfileGroup) + "\"\n");
  EXPECT_FALSE(s.Start());
  EXPECT_THAT(s.log(), HasSubstr("SignInAuthority"));
  ServerProcess t("ApprovalMode = true\nViewerSecurityGroup = \"" + std::string(kSimProfileGroup) +
                  "\"\nSignInAuthority = \"http://127.0.0.1:1/x/v2.0\"\n");
  EXPECT_FALSE(t.Start());
  EXPECT_THAT(t.log(), HasSubstr("ApproverSecurityGroup"));
}

TEST(WebConfigTest, WithoutSignInThePagesSaySoAndTheApiServes) {
  ServerProcess s;
  ASSERT_TRUE(s.Start());
  EXPECT_THAT(s.log(), HasSubstr("approval pages are off"));
  HttpResult page = Http("GET", s.url() + "/autopilot/approve-requests");
  EXPECT_EQ(page.status, 404);
  EXPECT_THAT(page.body, HasSubstr("no sign-in configured"));
  EXPECT_EQ(Http("POST", s.url() + "/api/v1/requests", SubmitBody("NOSIGNIN-1"),
                 {"Content-Type: application/json"})
                .status,
            201);
}

}  // namespace
}  // namespace apm::itest

namespace apm::itest {
namespace {

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
