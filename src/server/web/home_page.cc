#include "server/web/home_page.h"

#include "core/text.h"
#include "server/web/page_text.h"

namespace apm::web {
namespace {

constexpr const char* kApprovalHeadline =
    "Approval mode: after starting the client, call your helpdesk and quote the id it shows.";
constexpr const char* kSelfServiceHeadline =
    "Self-service: after starting the client, scan its QR code with your phone and sign in to "
    "approve the device.";

// A URL as one cmd.exe argument: in double quotes when it holds a character cmd would act on
// (a signed download link's '&', say); config.cc has refused quotes and a bare '%'.
std::string CommandArgument(const std::string& url) {
  bool plain = url.find_first_of("&|<>^(),;=!") == std::string::npos;
  return plain ? url : "\"" + url + "\"";
}

// The two lines to type at the OOBE prompt: download the client, start it against the server.
std::string CommandLines(const Config& config, const std::string& base_url) {
  const std::vector<std::string>& urls = config.HomepageImportCommandUrls;
  std::string exe = urls.size() == 2 ? urls[0] : base_url + "/ap.exe";
  std::string server = urls.size() == 2 ? urls[1] : base_url;
  // The client refuses plain http unless told; a lab server on http needs the switch.
  std::string allow_http = server.rfind("http://", 0) == 0 ? "--allow-http " : "";
  return "<pre id=\"oneliner\">cd %temp%\ncurl -o ap.exe " + HtmlEscape(CommandArgument(exe)) +
         " &amp; ap " + allow_http + HtmlEscape(CommandArgument(server)) + "</pre>";
}

std::string FooterLinks(const Config& config) {
  std::string links;
  if (config.ShowHomepageApprovalLink) {
    links += "<a href=\"/autopilot/approve-requests\">Requests waiting for approval</a>";
  }
  if (config.ShowHomepageHistoryLink) {
    if (!links.empty()) links += " · ";
    links += "<a href=\"/autopilot/view-imports\">Import history</a>";
  }
  return links.empty() ? "" : "<footer><p>" + links + "</p></footer>";
}

// What an admin or a careful user compares the downloaded file with.
std::string ClientFingerprint(const std::string& sha256, bool signed_here) {
  if (sha256.empty()) return "";
  return "<p id=\"client-sha256\"><small>ap.exe SHA-256: <code>" + HtmlEscape(sha256) + "</code>" +
         (signed_here ? " (Authenticode-signed)" : "") + "</small></p>";
}

}  // namespace

HomePageBody RenderHomePage(const Config& config, const std::string& base_url,
                            const std::string& client_sha256, bool client_signed) {
  HomePageBody page;
  std::string& html = page.html;
  if (!config.HomepageCompanyLogoImageUrl.empty()) {
    html += "<img class=\"logo\" src=\"" + HtmlEscape(config.HomepageCompanyLogoImageUrl) +
            "\" alt=\"Company logo\">";
    page.img_src = Origin(config.HomepageCompanyLogoImageUrl);
  }
  html += "<h1>Autopilot Manager</h1>";
  const std::string& custom_headline = config.ApprovalMode
                                           ? config.HomepageHeadlineSentenceApprovalMode
                                           : config.HomepageHeadlineSentenceNonApprovalMode;
  std::string headline = custom_headline.empty()
                             ? (config.ApprovalMode ? kApprovalHeadline : kSelfServiceHeadline)
                             : custom_headline;
  html += "<p id=\"headline\">" + HtmlEscape(headline) + "</p>";
  if (!config.HideHomepageImportInstructions) {
    html += config.CustomHomepageImportInstructions.empty()
                ? "<p id=\"instructions\">Register this device for Windows Autopilot. On the "
                  "Windows setup (OOBE) screen press <b>Shift+F10</b> to open a command prompt, "
                  "then type:</p>"
                : "<p id=\"instructions\" class=\"lines\">" +
                      HtmlEscape(config.CustomHomepageImportInstructions) + "</p>";
    html += CommandLines(config, base_url);
  }
  html += ClientFingerprint(client_sha256, client_signed);
  html += FooterLinks(config);
  return page;
}

}  // namespace apm::web
