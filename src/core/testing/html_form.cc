#include "core/testing/html_form.h"

#include <regex>
#include <utility>
#include <vector>

namespace apm::testing {

std::string HtmlUnescape(std::string s) {
  for (auto [from, to] : std::vector<std::pair<std::string, std::string>>{
           {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&#39;", "'"}, {"&amp;", "&"}}) {
    for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
      s.replace(at, from.size(), to);
    }
  }
  return s;
}

std::map<std::string, std::string> HiddenFields(const std::string& html) {
  std::map<std::string, std::string> out;
  std::regex input(R"re(<input type="hidden" name="([^"]*)" value="([^"]*)">)re");
  for (std::sregex_iterator it(html.begin(), html.end(), input), end; it != end; ++it) {
    out[HtmlUnescape((*it)[1])] = HtmlUnescape((*it)[2]);
  }
  return out;
}

}  // namespace apm::testing
