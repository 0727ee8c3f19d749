#include "tenantsim/oidc_pages.h"

#include "core/text.h"

namespace apm::sim {
namespace {

// Group names listed per user before the rest are only counted (the overage user has 210).
constexpr size_t kGroupsShown = 5;

constexpr const char* kStyle =
    "body{font-family:system-ui,sans-serif;margin:0;background:#f2f2f2;color:#1b1b1b}"
    "main{max-width:36rem;margin:2rem auto;background:#fff;padding:1.5rem 2rem;"
    "box-shadow:0 2px 6px rgba(0,0,0,.2)}"
    "h1{font-size:1.5rem;margin-top:0}"
    "ul{list-style:none;padding:0}"
    "li{margin:.5rem 0}"
    "button{width:100%;text-align:left;padding:.75rem 1rem;border:1px solid #8a8886;"
    "background:#fff;font:inherit;cursor:pointer}"
    "button:hover,button:focus{background:#e1efff;outline:3px solid #0067b8}"
    "button.suggested{border:2px solid #0067b8;background:#eff6fc}"
    ".upn,.groups{display:block;font-size:.875rem;color:#323130}"
    ".notice{padding:.5rem 1rem;background:#fff4ce;border-left:4px solid #8a6d00}"
    ".error{padding:.5rem 1rem;background:#fde7e9;border-left:4px solid #a80000}"
    "dl{font-size:.875rem}dt{font-weight:600}";

std::string Page(const std::string& title, const std::string& body) {
  return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
         "<title>" +
         HtmlEscape(title) + "</title><style>" + kStyle + "</style></head><body><main>" + body +
         "</main></body></html>\n";
}

std::string HiddenFields(const FormFields& fields) {
  std::string out;
  for (const auto& [name, value] : fields) {
    out += "<input type=\"hidden\" name=\"" + HtmlEscape(name) + "\" value=\"" + HtmlEscape(value) +
           "\">";
  }
  return out;
}

}  // namespace

std::string RenderPicker(const PickerPage& page) {
  std::string body =
      "<h1>Pick an account</h1><p>Simulated Entra ID sign-in for application <code>" +
      HtmlEscape(page.client_id) +
      "</code>. Choose the test user to sign in as; no password is asked.</p>";
  if (!page.notice.empty()) {
    body += "<p class=\"notice\" role=\"status\">" + HtmlEscape(page.notice) + "</p>";
  }
  body += "<form method=\"post\" action=\"" + HtmlEscape(page.action) + "\">" +
          HiddenFields(page.hidden);
  if (page.users.empty()) body += "<p>No test users are configured.</p>";
  body += "<ul aria-label=\"Test users\">";
  for (const PickerUser& u : page.users) {
    std::string groups;
    for (size_t i = 0; i < u.group_names.size() && i < kGroupsShown; ++i) {
      groups += (i ? ", " : "") + HtmlEscape(u.group_names[i]);
    }
    if (u.group_names.size() > kGroupsShown) {
      groups += " and " + std::to_string(u.group_names.size() - kGroupsShown) + " more";
    }
    if (u.group_names.empty()) groups = "no groups";
    body += "<li><button type=\"submit\" name=\"user\" value=\"" + HtmlEscape(u.oid) + "\"" +
            (u.suggested ? " class=\"suggested\" autofocus" : "") + "><strong>" +
            HtmlEscape(u.display_name) + "</strong>" +
            (u.suggested ? " <em>(suggested by login hint)</em>" : "") + "<span class=\"upn\">" +
            HtmlEscape(u.upn) + "</span><span class=\"groups\">Groups: " + groups +
            "</span></button></li>";
  }
  body += "</ul></form>";
  return Page("Sign in to your account", body);
}

std::string RenderErrorPage(const std::string& aadsts_message, const std::string& request_id,
                            const std::string& correlation_id, const std::string& timestamp) {
  std::string body =
      "<h1>Sign in</h1><p>Sorry, but we're having trouble signing you in.</p>"
      "<p class=\"error\" role=\"alert\">" +
      HtmlEscape(aadsts_message) +
      "</p><h2>Troubleshooting details</h2><dl><dt>Request Id</dt><dd>" + HtmlEscape(request_id) +
      "</dd><dt>Correlation Id</dt><dd>" + HtmlEscape(correlation_id) +
      "</dd><dt>Timestamp</dt><dd>" + HtmlEscape(timestamp) + "</dd></dl>";
  return Page("Sign in to your account", body);
}

std::string RenderFormPost(const std::string& action, const FormFields& fields) {
  std::string body = "<h1>Signing you in</h1><form method=\"post\" action=\"" + HtmlEscape(action) +
                     "\">" + HiddenFields(fields) +
                     "<noscript><p>Script is off: continue by hand.</p>"
                     "<button type=\"submit\">Continue</button></noscript></form>"
                     "<script>document.forms[0].submit();</script>";
  return Page("Working...", body);
}

std::string RenderSignedOut(const std::string& notice) {
  std::string body =
      "<h1>You signed out of your account</h1><p>It's a good idea to close all browser "
      "windows.</p>";
  if (!notice.empty()) body += "<p class=\"notice\" role=\"status\">" + HtmlEscape(notice) + "</p>";
  return Page("Sign out", body);
}

std::string RenderDeviceLogin(const DeviceLoginPage& page) {
  std::string body = "<h1>Enter code</h1><p>Enter the code displayed on your app or device.</p>";
  if (!page.notice.empty()) {
    body += "<p class=\"error\" role=\"alert\">" + HtmlEscape(page.notice) + "</p>";
  }
  body += "<form method=\"post\" action=\"" + HtmlEscape(page.action) +
          "\"><p><label for=\"code\">Code</label><br><input id=\"code\" name=\"code\" "
          "autocomplete=\"off\" required value=\"" +
          HtmlEscape(page.code) + "\"></p><p>Pick an account</p><ul>";
  for (const PickerUser& u : page.users) {
    body += "<li><button type=\"submit\" name=\"user\" value=\"" + HtmlEscape(u.oid) + "\">" +
            HtmlEscape(u.display_name) + "<span class=\"upn\">" + HtmlEscape(u.upn) +
            "</span></button></li>";
  }
  body += "</ul></form>";
  return Page("Enter code", body);
}

std::string RenderDeviceSignedIn(const std::string& app_name, const std::string& upn) {
  return Page("Signed in", "<h1>" + HtmlEscape(app_name) +
                               "</h1><p role=\"status\">You have signed in to the " +
                               HtmlEscape(app_name) + " application on your device as " +
                               HtmlEscape(upn) + ". You may now close this window.</p>");
}

std::string RenderDeviceNeedsAdmin(const std::string& app_name, const std::string& upn) {
  return Page("Need admin approval",
              "<h1>Need admin approval</h1><p class=\"error\" role=\"alert\">" +
                  HtmlEscape(app_name) +
                  " needs permission to access resources in your organization that only an admin "
                  "can grant. Please ask an admin to grant permission to this app before you can "
                  "use it.</p><p>Signed in as " +
                  HtmlEscape(upn) + ".</p>");
}

}  // namespace apm::sim
