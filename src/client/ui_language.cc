#include "client/ui_language.h"

#include <string_view>

namespace apm::client {

std::vector<std::string> LocaleLanguages(const std::function<const char*(const char*)>& getenv) {
  std::string locale;
  for (const char* name : {"LC_ALL", "LC_MESSAGES", "LANG"}) {
    const char* value = getenv(name);
    if (value && *value) {
      locale = value;
      break;
    }
  }
  if (locale.empty() || locale == "C" || locale == "POSIX" || locale.rfind("C.", 0) == 0) {
    return {};
  }
  std::vector<std::string> languages;
  const char* list = getenv("LANGUAGE");
  std::string_view rest = list ? list : "";
  while (!rest.empty()) {
    const size_t colon = rest.find(':');
    if (colon != 0) languages.emplace_back(rest.substr(0, colon));
    rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
  }
  languages.push_back(locale);
  return languages;
}

}  // namespace apm::client
