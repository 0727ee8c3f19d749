// The browser and the fixture of the web integration tests: the real apm-server with
// apm-tenant-sim as its OpenID provider (and tenant), driven by a cookie-keeping HTTP client.
#pragma once

#include <curl/curl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/testing/html_form.h"
#include "server_process.h"

namespace apm::itest {

using apm::testing::HiddenFields;
using json = nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

inline std::string Encode(const std::map<std::string, std::string>& form) {
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

}  // namespace apm::itest
