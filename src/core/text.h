// Small text helpers shared by the core (validation, hash decoding) and the server.
#pragma once

#include <string>
#include <string_view>

namespace apm {

// Without leading and trailing white space.
std::string Trim(std::string_view s);
bool EqualsIgnoreCase(std::string_view a, std::string_view b);
// A copy with ASCII letters in lower case (other bytes as they are).
std::string AsciiLower(std::string_view s);
bool IsValidUtf8(std::string_view s);
// `s` with each byte that is not part of UTF-8, and each NUL, replaced by U+FFFD: text every
// database and JSON writer takes.
std::string ValidUtf8Text(std::string_view s);
// Text safe inside HTML elements and quoted attributes (& < > " ' escaped).
std::string HtmlEscape(std::string_view s);
// At most `max_bytes` of `s`, cut before a character, not inside one; "…" marks a cut.
std::string TruncateUtf8(std::string_view s, size_t max_bytes);

}  // namespace apm
