#include "server/web/home_page.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace apm::web {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* kBase = "https://apm.contoso.com";

TEST(HomePage, WithoutBrandingShowsOurWordsAndTheCommand) {
  Config config;
  HomePageBody page = RenderHomePage(config, kBase);
  EXPECT_THAT(page.html, HasSubstr("call your helpdesk and quote the id"));
  EXPECT_THAT(page.html, HasSubstr("press <b>Shift+F10</b>"));
  EXPECT_THAT(page.html, HasSubstr("curl -o ap.exe https://apm.contoso.com/ap.exe &amp; ap "
                                   "https://apm.contoso.com</pre>"));
  EXPECT_THAT(page.html, Not(HasSubstr("<img")));
  EXPECT_THAT(page.html, Not(HasSubstr("<footer>")));
  EXPECT_EQ(page.img_src, "");
  config.ApprovalMode = false;
  EXPECT_THAT(RenderHomePage(config, kBase).html, HasSubstr("scan its QR code"));
}

TEST(HomePage, CarriesTheCompanysLogoAndWordsEscaped) {
  Config config;
  config.HomepageCompanyLogoImageUrl = "https://cdn.contoso.com/brand/logo.png";
  config.HomepageHeadlineSentenceApprovalMode =
      "Please call the helpdesk (+49 180-12345678) <b>now</b> & quote \"the id\"";
  config.HomepageHeadlineSentenceNonApprovalMode = "Scan the QR code.";
  config.CustomHomepageImportInstructions = "Step 1: Shift+F10\nStep 2: <script>x()</script>";
  HomePageBody page = RenderHomePage(config, kBase);
  EXPECT_THAT(page.html,
              HasSubstr("<img class=\"logo\" src=\"https://cdn.contoso.com/brand/logo.png\""));
  EXPECT_EQ(page.img_src, "https://cdn.contoso.com");
  EXPECT_THAT(page.html, HasSubstr("(+49 180-12345678) &lt;b&gt;now&lt;/b&gt; &amp; quote "
                                   "&quot;the id&quot;"));
  EXPECT_THAT(page.html, Not(HasSubstr("Scan the QR code.")));  // the other mode's sentence
  EXPECT_THAT(page.html, HasSubstr("Step 1: Shift+F10\nStep 2: &lt;script&gt;x()&lt;/script&gt;"));
  EXPECT_THAT(page.html, Not(HasSubstr("<script")));
  EXPECT_THAT(page.html, Not(HasSubstr("press <b>Shift+F10</b>")));  // replaced, not added
  EXPECT_THAT(page.html, HasSubstr("curl -o ap.exe"));               // the command stays
  config.ApprovalMode = false;
  EXPECT_THAT(RenderHomePage(config, kBase).html, HasSubstr(">Scan the QR code.<"));
}

TEST(HomePage, HidesTheInstructionsAndUsesTheConfiguredCommandUrls) {
  Config config;
  config.HomepageImportCommandUrls = {"https://files.contoso.com/ap.exe",
                                      "http://apm.lab.contoso.com"};
  EXPECT_THAT(RenderHomePage(config, kBase).html,
              HasSubstr("curl -o ap.exe https://files.contoso.com/ap.exe &amp; ap --allow-http "
                        "http://apm.lab.contoso.com</pre>"));
  // A signed download link's '&' would end the cmd.exe command: the URL goes in quotes.
  config.HomepageImportCommandUrls = {"https://files.contoso.com/ap.exe?sv=1&sig=abc%2F",
                                      "https://apm.contoso.com"};
  EXPECT_THAT(RenderHomePage(config, kBase).html,
              HasSubstr("curl -o ap.exe &quot;https://files.contoso.com/ap.exe?sv=1&amp;sig=abc%2F"
                        "&quot; &amp; ap https://apm.contoso.com</pre>"));
  config.HideHomepageImportInstructions = true;
  std::string hidden = RenderHomePage(config, kBase).html;
  EXPECT_THAT(hidden, Not(HasSubstr("curl")));
  EXPECT_THAT(hidden, Not(HasSubstr("Shift+F10")));
  EXPECT_THAT(hidden, HasSubstr("call your helpdesk"));  // the headline stays
}

TEST(HomePage, ShowsTheServedClientsSha256) {
  Config config;
  const std::string sha = std::string(64, 'a');
  EXPECT_THAT(RenderHomePage(config, kBase).html, Not(HasSubstr("SHA-256")));
  std::string unsigned_client = RenderHomePage(config, kBase, sha, false).html;
  EXPECT_THAT(unsigned_client, HasSubstr("ap.exe SHA-256: <code>" + sha + "</code>"));
  EXPECT_THAT(unsigned_client, Not(HasSubstr("signed")));
  EXPECT_THAT(RenderHomePage(config, kBase, sha, true).html, HasSubstr("(Authenticode-signed)"));
}

TEST(HomePage, ShowsTheFooterLinksAskedFor) {
  Config config;
  config.ShowHomepageHistoryLink = true;
  std::string history_only = RenderHomePage(config, kBase).html;
  EXPECT_THAT(history_only, HasSubstr("<a href=\"/autopilot/view-imports\">"));
  EXPECT_THAT(history_only, Not(HasSubstr("approve-requests")));
  config.ShowHomepageApprovalLink = true;
  EXPECT_THAT(RenderHomePage(config, kBase).html,
              HasSubstr("<a href=\"/autopilot/approve-requests\">"));
}

}  // namespace
}  // namespace apm::web
