// Cookie headers as any client may send them: the first line is the cookie name looked for,
// the rest the header. Never crash; a value found came from a name=value pair of the header.
#include <cstdlib>

#include "fuzz_input.h"
#include "server/http/form.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input = apm::fuzz::Bytes(data, size);
  size_t newline = input.find('\n');
  std::string_view name = input.substr(0, newline);
  std::string_view header = newline == std::string_view::npos ? "" : input.substr(newline + 1);
  std::optional<std::string> value = apm::CookieFromHeader(header, name);
  if (value) {
    if (value->find(';') != std::string::npos) std::abort();
    if (header.find(std::string(name) + "=" + *value) == std::string_view::npos) std::abort();
  }
  // A cookie we set is found again behind whatever the client puts before it.
  if (name.find_first_of("; =\t\n\v\f\r") == std::string_view::npos && !name.empty()) {
    std::string ours = "0123456789abcdef";
    std::string sent =
        std::string(header.substr(0, header.find(';'))) + "; " + std::string(name) + "=" + ours;
    std::optional<std::string> found = apm::CookieFromHeader(sent, name);
    if (!found) std::abort();
  }
  return 0;
}
