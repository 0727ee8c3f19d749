#include "client/win32_text.h"  // <windows.h>

#include <algorithm>

#include "client/ui_language.h"

namespace apm::client {

std::vector<std::string> PreferredUiLanguages() {
  std::vector<std::string> languages;
  ULONG count = 0;
  ULONG length = 0;
  if (GetUserPreferredUILanguages(MUI_LANGUAGE_NAME, &count, nullptr, &length) && length > 0) {
    std::wstring names(length, L'\0');
    if (GetUserPreferredUILanguages(MUI_LANGUAGE_NAME, &count, names.data(), &length)) {
      // A list of NUL-terminated names ending with an empty one.
      for (size_t at = 0; at < names.size() && names[at] != L'\0';) {
        const size_t end = std::min(names.find(L'\0', at), names.size());
        languages.push_back(Narrow(names.substr(at, end - at)));
        at = end + 1;
      }
    }
  }
  wchar_t name[LOCALE_NAME_MAX_LENGTH];
  if (LCIDToLocaleName(MAKELCID(GetSystemDefaultUILanguage(), SORT_DEFAULT), name,
                       LOCALE_NAME_MAX_LENGTH, 0) > 0) {
    languages.push_back(Narrow(name));
  }
  return languages;
}

}  // namespace apm::client
