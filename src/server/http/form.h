// application/x-www-form-urlencoded bodies (OAuth token requests, HTML forms), and the
// name=value pairs of a Cookie header.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace apm {

// Decodes %XX and '+'; nullopt for a malformed escape.
std::optional<std::string> UrlDecode(std::string_view text);

// Percent-encodes everything but unreserved characters (RFC 3986), for form bodies and
// query strings.
std::string FormEncode(std::string_view text);

// name -> value; nullopt when any part is malformed. A repeated name keeps its first value.
std::optional<std::map<std::string, std::string>> ParseForm(std::string_view body);

// The value of cookie `name` in one Cookie header ("a=1; b=2"), the first if repeated;
// nullopt when absent. Values are returned as sent (ours are never quoted or encoded).
std::optional<std::string> CookieFromHeader(std::string_view header, std::string_view name);

}  // namespace apm
