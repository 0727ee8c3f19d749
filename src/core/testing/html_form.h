// Test-only: what a browser submits from a server-rendered page's form.
#pragma once

#include <map>
#include <string>

namespace apm::testing {

// Undoes the five entities HtmlEscape writes.
std::string HtmlUnescape(std::string text);

// The hidden inputs of a page's forms (name -> value, unescaped), as a browser posts them.
std::map<std::string, std::string> HiddenFields(const std::string& html);

}  // namespace apm::testing
