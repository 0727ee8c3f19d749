#include <cstdlib>

#include "client/ui_language.h"

namespace apm::client {

std::vector<std::string> PreferredUiLanguages() {
  return LocaleLanguages([](const char* name) { return std::getenv(name); });
}

}  // namespace apm::client
