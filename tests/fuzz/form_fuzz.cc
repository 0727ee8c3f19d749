// Form bodies and query strings as a browser (or anyone) posts them: never crash, and what
// FormEncode makes decodes back to the same text.
#include <cstdlib>

#include "fuzz_input.h"
#include "server/http/form.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = apm::fuzz::Bytes(data, size);
  (void)apm::ParseForm(text);
  std::optional<std::string> decoded = apm::UrlDecode(text);
  std::optional<std::string> round = apm::UrlDecode(apm::FormEncode(text));
  if (!round || *round != text) std::abort();
  if (decoded) (void)apm::ParseForm(apm::FormEncode(*decoded) + "=" + std::string(text));
  return 0;
}
