// The hardware hash decoder on raw blobs, and through base64 as a client sends it.
#include <cstdlib>

#include "core/base64.h"
#include "core/hardware_hash.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes = apm::fuzz::Bytes(data, size);
  apm::Result<apm::HardwareHashInfo> raw = apm::DecodeHardwareHash(bytes);
  // What a client sends is the blob in base64: it must come back byte for byte.
  apm::Result<std::string> blob = apm::Base64Decode(apm::Base64Encode(bytes));
  if (!blob.ok() || *blob != bytes) std::abort();
  // What it decoded lies within the blob.
  if (raw.ok() && (raw->used_length > bytes.size() || raw->record_count > bytes.size())) {
    std::abort();
  }
  // As text: what a client may send in the hardwareHash field.
  if (apm::Result<std::string> text = apm::Base64Decode(bytes); text.ok()) {
    (void)apm::DecodeHardwareHash(*text);
  }
  (void)apm::HashFingerprint(bytes);
  return 0;
}
