// Both base64 decoders: never crash, and what decodes encodes back to text that decodes the same.
#include <cstdlib>

#include "core/base64.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = apm::fuzz::Bytes(data, size);
  if (apm::Result<std::string> d = apm::Base64Decode(text); d.ok()) {
    apm::Result<std::string> again = apm::Base64Decode(apm::Base64Encode(*d));
    if (!again.ok() || *again != *d) std::abort();
  }
  if (apm::Result<std::string> d = apm::Base64UrlDecodeNoPad(text); d.ok()) {
    apm::Result<std::string> again = apm::Base64UrlDecodeNoPad(apm::Base64UrlEncodeNoPad(*d));
    if (!again.ok() || *again != *d) std::abort();
  }
  return 0;
}
