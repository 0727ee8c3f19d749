// One page request as the web handler's parts see it, and the helpers they share. Internal to
// src/server/web.
#pragma once

#include <openssl/crypto.h>

#include <map>
#include <optional>
#include <string>

#include "server/http/form.h"
#include "server/http/multipart.h"
#include "server/web/web_handler.h"

namespace apm::web {

struct WebHandler::Visit {
  InboundRequest req;
  Reply reply;
  std::string route;
  std::optional<Session> session;
  auth::Roles roles;
  std::map<std::string, std::string> form;
  // A multipart form's files by field name (views into the request's body), or why the form
  // could not be read.
  std::map<std::string, FormPart> files;
  std::string form_error;
};

// A sign-in not finished within this time is refused (and purged).
constexpr int64_t kSignInMaxAgeMs = 10 * 60'000;

// A query parameter, percent-decoded ("" when absent or badly encoded).
inline std::string Param(const InboundRequest& req, std::string_view name) {
  std::optional<std::string> raw = QueryParam(req.query, name);
  if (!raw) return "";
  return UrlDecode(*raw).value_or("");  // '+' is a space there too
}

// Constant-time comparison of two secrets; an empty one matches nothing.
inline bool SameToken(const std::string& a, const std::string& b) {
  return !a.empty() && a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace apm::web
