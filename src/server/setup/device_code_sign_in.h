// Signs an admin in with the OAuth 2.0 device code flow (RFC 8628, Entra's v2 endpoint): they
// open a URL on any device and type the code shown, while this side polls the token endpoint.
// For `apm-server setup entra`, whose changes are made with the admin's own (delegated) rights.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "core/status.h"
#include "server/clock.h"
#include "server/http/outbound_http.h"

namespace apm {

struct AdminSignIn {
  std::string access_token;  // for Graph, with the admin's delegated scopes
  std::string tenant_id;     // from the id_token's tid; "" when none came back
  std::string user;          // preferred_username, for messages
};

class DeviceCodeSignIn {
 public:
  struct Options {
    std::string login_endpoint = "https://login.microsoftonline.com";
    std::string tenant = "organizations";  // GUID or domain; "organizations": the admin's own
    // Microsoft Graph Command Line Tools: a public client Microsoft registers in every tenant.
    std::string client_id = "14d82eec-204b-4c2f-b7e8-296a70dab67e";
    std::string scopes;  // space-separated Graph scopes, without the resource prefix
  };
  // Waits between polls; false when the wait was cut short (then the sign-in ends).
  using Sleep = std::function<bool(std::chrono::milliseconds)>;

  DeviceCodeSignIn(Options options, OutboundHttp& http, const Clock& clock, Sleep sleep);
  // Asks for a code, passes Entra's instruction ("To sign in, … open the page … and enter the
  // code …") to `show`, and polls until the admin signed in, declined or the code expired.
  Result<AdminSignIn> SignIn(const std::function<void(const std::string&)>& show);

 private:
  Options options_;
  OutboundHttp& http_;
  const Clock& clock_;
  Sleep sleep_;
};

}  // namespace apm
