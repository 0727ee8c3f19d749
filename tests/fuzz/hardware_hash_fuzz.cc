// The hardware hash decoder on raw blobs, and through base64 as a client sends it.
#include <cstdlib>

#include "core/base64.h"
#include "core/hardware_hash.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes = apm::fuzz::Bytes(data, size);
  apm::Result<apm::HardwareHashInfo> raw = apm::DecodeHardwareHash(bytes);
  // Decoding is a function of the bytes: the same blob, encoded and decoded, says the same.
  apm::Result<std::string> blob = apm::Base64Decode(apm::Base64Encode(bytes));
  if (!blob.ok() || *blob != bytes) std::abort();
  apm::Result<apm::HardwareHashInfo> again = apm::DecodeHardwareHash(*blob);
  if (raw.ok() != again.ok()) std::abort();
  // As text: what a client may send in the hardwareHash field.
  if (apm::Result<std::string> text = apm::Base64Decode(bytes); text.ok()) {
    (void)apm::DecodeHardwareHash(*text);
  }
  (void)apm::HashFingerprint(bytes);
  return 0;
}
