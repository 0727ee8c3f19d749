#include "tenantsim/sim_handler.h"

#include <openssl/rand.h>

#include <nlohmann/json.hpp>

#include "server/http/form.h"
#include "server/json_text.h"

namespace apm::sim {
namespace {

using json = nlohmann::json;

StringResponse JsonAnswer(const HttpRequest& req, http::status status, const json& body) {
  StringResponse res{status, req.message.version()};
  res.set(http::field::content_type, "application/json; charset=utf-8");
  res.set(http::field::cache_control, "no-store, no-cache");
  res.body() = JsonText(body);
  res.prepare_payload();
  return res;
}

std::string Guid() {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1) std::abort();
  char out[37];
  std::snprintf(out, sizeof out,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                b[15]);
  return out;
}

// Entra's error body: error, description, codes, time and trace ids.
json OAuthError(const TokenError& e, int64_t now_ms) {
  std::string ts = FormatTimestamp(now_ms);  // 2026-11-27T08:00:00.000Z
  std::string entra_ts = ts.substr(0, 10) + " " + ts.substr(11, 8) + "Z";
  return {{"error", e.error},          {"error_description", e.description},
          {"error_codes", {e.aadsts}}, {"timestamp", entra_ts},
          {"trace_id", Guid()},        {"correlation_id", Guid()}};
}

}  // namespace

SimHandler::SimHandler(Identity& identity, const Clock& clock)
    : identity_(identity), clock_(clock) {}

void SimHandler::Handle(HttpRequest req, Reply reply) {
  // /{tenant}/oauth2/v2.0/token
  std::string_view path = req.path;
  std::string_view suffix = "/oauth2/v2.0/token";
  if (path.size() > suffix.size() + 1 && path.substr(path.size() - suffix.size()) == suffix &&
      path.find('/', 1) == path.size() - suffix.size()) {
    std::string tenant(path.substr(1, path.size() - suffix.size() - 1));
    if (req.message.method() != http::verb::post) {
      return reply(JsonAnswer(req, http::status::method_not_allowed,
                              {{"error", "invalid_request"},
                               {"error_description", "The token endpoint accepts only POST."}}),
                   "/{tenant}/oauth2/v2.0/token");
    }
    return Token(req, tenant, reply);
  }
  if (req.path == "/healthz") {
    return reply(JsonAnswer(req, http::status::ok, {{"status", "ok"}}), "/healthz");
  }
  reply(JsonAnswer(req, http::status::not_found,
                   {{"error", {{"code", "NotFound"}, {"message", "No route for " + req.path}}}}),
        "(unmatched)");
}

void SimHandler::Token(const HttpRequest& req, const std::string& tenant, const Reply& reply) {
  constexpr std::string_view kRoute = "/{tenant}/oauth2/v2.0/token";
  if (!identity_.IsTenant(tenant)) {
    TokenError e{400, "invalid_request", 90002,
                 "AADSTS90002: Tenant '" + tenant +
                     "' not found. Check to make sure you have "
                     "the correct tenant ID and are signing into the correct cloud."};
    return reply(JsonAnswer(req, http::status::bad_request, OAuthError(e, clock_.NowMs())), kRoute);
  }
  std::optional<std::map<std::string, std::string>> form = ParseForm(req.message.body());
  if (!form) {
    TokenError e{400, "invalid_request", 900144, "AADSTS900144: The request body is malformed."};
    return reply(JsonAnswer(req, http::status::bad_request, OAuthError(e, clock_.NowMs())), kRoute);
  }
  auto result = identity_.ClientCredentials(*form);
  if (const TokenError* e = std::get_if<TokenError>(&result)) {
    return reply(JsonAnswer(req, http::status(e->http_status), OAuthError(*e, clock_.NowMs())),
                 kRoute);
  }
  const IssuedToken& t = std::get<IssuedToken>(result);
  reply(JsonAnswer(req, http::status::ok,
                   {{"token_type", "Bearer"},
                    {"expires_in", t.expires_in},
                    {"ext_expires_in", t.expires_in},
                    {"access_token", t.access_token}}),
        kRoute);
}

}  // namespace apm::sim
