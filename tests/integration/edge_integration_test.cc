// The real apm-server at the edge: the Azure Front Door check (RequiredFrontDoorId) and the home
// page in the company's words (the original's Homepage… keys), over HTTP.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "server_process.h"

namespace apm::itest {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kProfile = "55ce4ed1-4b06-4bf1-b40e-4638452104da";
constexpr const char* kOtherProfile = "9f1e2d3c-4b5a-4697-8877-665544332211";
const std::string kThroughFrontDoor = std::string("X-Azure-FDID: ") + kProfile;
const std::string kJson = "Content-Type: application/json";

class FrontDoorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ServerProcess>(std::string("RequiredFrontDoorId = \"") + kProfile +
                                              "\"\n");
    ASSERT_TRUE(server_->Start()) << server_->log();
  }
  HttpResult Submit(const std::string& serial, std::vector<std::string> headers) {
    headers.push_back(kJson);
    return Http("POST", server_->url() + "/api/v1/requests", SubmitBody(serial), headers);
  }
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(FrontDoorTest, RefusesRequestsThatDidNotComeThroughTheProfile) {
  // Missing, another profile's, empty (curl's "Name;" sends an empty value) and repeated.
  const std::string other = std::string("X-Azure-FDID: ") + kOtherProfile;
  for (const std::vector<std::string>& headers :
       {std::vector<std::string>{}, {other}, {"X-Azure-FDID;"}, {kThroughFrontDoor, other}}) {
    HttpResult home = Http("GET", server_->url() + "/", "", headers);
    EXPECT_EQ(home.status, 403) << home.body;
    EXPECT_THAT(home.body, HasSubstr("Azure Front Door"));
    EXPECT_THAT(home.body, Not(HasSubstr(kProfile)));
    HttpResult submitted = Submit("FD-BYPASS", headers);
    EXPECT_EQ(submitted.status, 403) << submitted.body;
    EXPECT_EQ(Http("GET", server_->url() + "/ap.exe", "", headers).status, 403);
    EXPECT_EQ(Http("GET", server_->url() + "/metrics", "", headers).status, 403);
  }
  // A refused HEAD (Front Door's default probe is HEAD /) is refused too; a POST to a health
  // check is not a probe.
  EXPECT_EQ(Http("HEAD", server_->url() + "/").status, 403);
  EXPECT_EQ(Http("POST", server_->url() + "/healthz", "{}", {kJson}).status, 403);
  // Nothing a refused request carried was taken: the serial is still free.
  HttpResult through = Submit("FD-BYPASS", {kThroughFrontDoor});
  EXPECT_EQ(through.status, 201) << through.body;
  // The refusals are counted apart, so an admin sees traffic that went around the Front Door.
  HttpResult metrics = Http("GET", server_->url() + "/metrics", "", {kThroughFrontDoor});
  EXPECT_THAT(metrics.body,
              HasSubstr("apm_http_requests_total{route=\"(front door)\",status=\"403\"} 18\n"));
}

TEST_F(FrontDoorTest, LetsTheProfileAndHealthChecksIn) {
  EXPECT_EQ(Http("GET", server_->url() + "/", "", {kThroughFrontDoor}).status, 200);
  EXPECT_EQ(Http("GET", server_->url() + "/healthz").status, 200);
  EXPECT_EQ(Http("GET", server_->url() + "/readyz").status, 200);
  HttpResult r = Submit("FD-THROUGH", {kThroughFrontDoor});
  ASSERT_EQ(r.status, 201) << r.body;
  std::string id = nlohmann::json::parse(r.body).value("id", "");
  EXPECT_EQ(Http("GET", server_->url() + "/api/v1/requests/" + id, "", {kThroughFrontDoor}).status,
            200);
}

// The home page of a server started with `config` (empty when it would not start).
HttpResult HomePageWith(const std::string& config) {
  ServerProcess s(config);
  if (!s.Start()) {
    ADD_FAILURE() << s.log();
    return {};
  }
  return Http("GET", s.url() + "/");
}

TEST(HomePageBrandingTest, TheHomePageCarriesTheCompanysLogoAndWords) {
  HttpResult home = HomePageWith(
      "HomepageCompanyLogoImageUrl = \"https://cdn.contoso.com/brand/logo.png\"\n"
      "HomepageHeadlineSentenceApprovalMode = \"Call the helpdesk on +49 180-12345678 <now>.\"\n"
      "CustomHomepageImportInstructions = \"Press Shift+F10.\\nThen type:\"\n"
      "HomepageImportCommandUrls = [\"https://files.contoso.com/ap.exe\", "
      "\"https://apm.contoso.com\"]\n"
      "ShowHomepageHistoryLink = true\n");
  ASSERT_EQ(home.status, 200);
  EXPECT_THAT(home.body, HasSubstr("src=\"https://cdn.contoso.com/brand/logo.png\""));
  EXPECT_THAT(home.body, HasSubstr("Call the helpdesk on +49 180-12345678 &lt;now&gt;."));
  EXPECT_THAT(home.body, HasSubstr("Press Shift+F10.\nThen type:"));
  EXPECT_THAT(home.body, HasSubstr("curl -o ap.exe https://files.contoso.com/ap.exe &amp; ap "
                                   "https://apm.contoso.com</pre>"));
  EXPECT_THAT(home.body, HasSubstr("href=\"/autopilot/view-imports\""));
  EXPECT_THAT(home.body, Not(HasSubstr("approve-requests")));
  // The logo's origin, and nothing else, may serve images; scripts stay out.
  std::string csp = home.Header("content-security-policy");
  EXPECT_THAT(csp, HasSubstr("default-src 'none'"));
  EXPECT_THAT(csp, HasSubstr("img-src https://cdn.contoso.com;"));
  EXPECT_THAT(csp, Not(HasSubstr("script-src")));
}

TEST(HomePageBrandingTest, InstructionsCanBeHidden) {
  HttpResult home = HomePageWith(
      "HideHomepageImportInstructions = true\nApprovalMode = false\n"
      "HomepageHeadlineSentenceNonApprovalMode = \"Scan the QR code to go on.\"\n");
  ASSERT_EQ(home.status, 200);
  EXPECT_THAT(home.body, HasSubstr("Scan the QR code to go on."));
  EXPECT_THAT(home.body, Not(HasSubstr("curl -o ap.exe")));
  EXPECT_THAT(home.Header("content-security-policy"), Not(HasSubstr("img-src")));
}

}  // namespace
}  // namespace apm::itest
