// The HTML pages of the simulated sign-in: the test-user picker, Entra-like error pages, the
// form_post answer and the signed-out page. Self-contained (inline CSS, no external assets);
// every request- or user-controlled text passes through HtmlEscape (core/text.h).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace apm::sim {

using FormFields = std::vector<std::pair<std::string, std::string>>;

struct PickerUser {
  std::string oid;
  std::string display_name;
  std::string upn;
  std::vector<std::string> group_names;  // shown up to a few, the rest counted
  bool suggested = false;                // named by login_hint
};

struct PickerPage {
  std::string action;  // the authorize path the form posts to
  std::string client_id;
  FormFields hidden;  // the original authorize parameters
  std::vector<PickerUser> users;
  std::string notice;  // "" or a line shown above the list (plain text)
};

std::string RenderPicker(const PickerPage& page);

// Entra's "Sorry, but we're having trouble signing you in." with the AADSTS text.
std::string RenderErrorPage(const std::string& aadsts_message, const std::string& request_id,
                            const std::string& correlation_id, const std::string& timestamp);

// response_mode=form_post: a form that posts `fields` to `action` on load; a button without
// script.
std::string RenderFormPost(const std::string& action, const FormFields& fields);

std::string RenderSignedOut(const std::string& notice);

// The device code flow's page: enter the code, pick the account (one form).
struct DeviceLoginPage {
  std::string action;
  std::string code;  // as entered, shown again after a mistake
  std::vector<PickerUser> users;
  std::string notice;  // "" or what was wrong
};
std::string RenderDeviceLogin(const DeviceLoginPage& page);
// "You have signed in to <app> as <upn>": the device may go on.
std::string RenderDeviceSignedIn(const std::string& app_name, const std::string& upn);
// Entra's "Need admin approval" for a user who cannot consent to what the app asks.
std::string RenderDeviceNeedsAdmin(const std::string& app_name, const std::string& upn);

}  // namespace apm::sim
