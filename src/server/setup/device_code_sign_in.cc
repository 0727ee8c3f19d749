#include "server/setup/device_code_sign_in.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "server/graph/token_claims.h"
#include "server/http/form.h"
#include "server/json_text.h"

namespace apm {
namespace {

using json = nlohmann::json;

// Entra's own words for an OAuth error answer: error_description, else error.
std::string OAuthErrorText(const json& body, int status) {
  std::string text = body.is_object() ? StringMember(body, "error_description") : "";
  if (text.empty() && body.is_object()) text = StringMember(body, "error");
  if (text.empty()) text = "HTTP " + std::to_string(status);
  // Entra appends trace and correlation ids on new lines; the first line says what is wrong.
  if (size_t nl = text.find_first_of("\r\n"); nl != std::string::npos) text.resize(nl);
  return text;
}

}  // namespace

DeviceCodeSignIn::DeviceCodeSignIn(Options options, OutboundHttp& http, const Clock& clock,
                                   Sleep sleep)
    : options_(std::move(options)), http_(http), clock_(clock), sleep_(std::move(sleep)) {}

Result<AdminSignIn> DeviceCodeSignIn::SignIn(const std::function<void(const std::string&)>& show) {
  const std::string base = options_.login_endpoint + "/" + options_.tenant + "/oauth2/v2.0/";
  std::string scope = "openid profile offline_access";
  for (size_t i = 0; i < options_.scopes.size();) {
    size_t j = options_.scopes.find(' ', i);
    if (j == std::string::npos) j = options_.scopes.size();
    if (j > i) scope += " https://graph.microsoft.com/" + options_.scopes.substr(i, j - i);
    i = j + 1;
  }
  OutboundRequest start;
  start.method = "POST";
  start.url = base + "devicecode";
  start.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  start.body = "client_id=" + FormEncode(options_.client_id) + "&scope=" + FormEncode(scope);
  Result<OutboundResponse> started = http_.Send(start);
  if (!started.ok()) {
    return Status::Unavailable("cannot reach " + start.url + ": " + started.status().message());
  }
  json code = json::parse(started->body, nullptr, false);
  if (started->status != 200 || !code.is_object() || StringMember(code, "device_code").empty()) {
    return Status::FailedPrecondition("Entra ID did not start the sign-in: " +
                                      OAuthErrorText(code, started->status));
  }
  const std::string device_code = StringMember(code, "device_code");
  // Bounded: a wrong answer must neither spin nor wait for ever.
  const json interval = MemberOr(code, "interval", 5);
  int64_t interval_s =
      std::clamp<int64_t>(interval.is_number_integer() ? interval.get<int64_t>() : 5, 1, 60);
  const json lifetime = MemberOr(code, "expires_in", 900);
  const int64_t expires_in =
      std::clamp<int64_t>(lifetime.is_number_integer() ? lifetime.get<int64_t>() : 900, 60, 3600);
  std::string message = StringMember(code, "message");
  if (message.empty()) {
    message = "To sign in, open " + StringMember(code, "verification_uri") +
              " and enter the code " + StringMember(code, "user_code") + ".";
  }
  show(message);

  const int64_t deadline = clock_.NowMs() + expires_in * 1000;
  OutboundRequest poll;
  poll.method = "POST";
  poll.url = base + "token";
  poll.headers = start.headers;
  poll.body = "grant_type=" + FormEncode("urn:ietf:params:oauth:grant-type:device_code") +
              "&client_id=" + FormEncode(options_.client_id) +
              "&device_code=" + FormEncode(device_code);
  while (clock_.NowMs() < deadline) {
    if (!sleep_(std::chrono::milliseconds(interval_s * 1000))) {
      return Status::Unavailable("the sign-in was interrupted");
    }
    Result<OutboundResponse> answer = http_.Send(poll);
    // A network blip or a server error: the code stays valid, ask again.
    if (!answer.ok() || answer->status >= 500) continue;
    json body = json::parse(answer->body, nullptr, false);
    if (answer->status == 200 && body.is_object() && !StringMember(body, "access_token").empty()) {
      AdminSignIn out;
      out.access_token = StringMember(body, "access_token");
      if (std::optional<json> claims = UnverifiedJwtClaims(StringMember(body, "id_token"))) {
        out.tenant_id = StringMember(*claims, "tid");
        out.user = StringMember(*claims, "preferred_username");
      }
      return out;
    }
    const std::string error = body.is_object() ? StringMember(body, "error") : "";
    if (error == "authorization_pending") continue;
    if (error == "slow_down") {
      interval_s = std::min<int64_t>(interval_s + 5, 60);  // RFC 8628 §3.5
      continue;
    }
    if (error == "authorization_declined") {
      return Status::PermissionDenied(
          "the sign-in was declined. An account without an administrator role is told \"Need "
          "admin approval\": the scopes this command asks for need an administrator's consent");
    }
    if (error == "expired_token") break;
    return Status::FailedPrecondition("Entra ID refused the sign-in: " +
                                      OAuthErrorText(body, answer->status));
  }
  return Status::Unavailable("nobody signed in with the code within " +
                             std::to_string(expires_in / 60) + " minutes; run the command again");
}

}  // namespace apm
