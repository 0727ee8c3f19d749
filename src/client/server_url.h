// The server URL as the user typed it: scheme defaults, http policy, and shortened links.
#pragma once

#include <string>

#include "client/http_client.h"
#include "core/status.h"

namespace apm::client {

// "apm.contoso.com" -> "https://apm.contoso.com"; trailing slashes go. Plain http only with
// `allow_http`. Errors say what was wrong with the text.
Result<std::string> NormalizeServerUrl(const std::string& text, bool allow_http);

// Follows up to 5 redirects (301/302/303/307/308) from `url` with HEAD-less GETs and returns the
// final URL (without a trailing slash). Each hop must keep to https unless `allow_http`.
Result<std::string> ResolveServerUrl(HttpClient& http, const std::string& url, bool allow_http);

// Joins a Location header to the URL it came from (absolute, or absolute path).
std::string JoinLocation(const std::string& base, const std::string& location);

}  // namespace apm::client
