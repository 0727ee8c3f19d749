// Which languages the user reads, best first, as the system says (catalogue.h chooses one).
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace apm::client {

// Windows: the user's preferred UI languages (in OOBE, the language picked on its first page),
// then the system's default UI language. POSIX: LocaleLanguages of the process environment.
std::vector<std::string> PreferredUiLanguages();

// gettext's order: LANGUAGE (a ':' list) then the locale of messages (LC_ALL, else LC_MESSAGES,
// else LANG); nothing when that locale is unset, "C" or "POSIX" (gettext ignores LANGUAGE then).
std::vector<std::string> LocaleLanguages(const std::function<const char*(const char*)>& getenv);

}  // namespace apm::client
