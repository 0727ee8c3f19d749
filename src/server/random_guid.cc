#include "server/random_guid.h"

#include <openssl/rand.h>

#include <cstdlib>

#include "core/base64.h"
#include "core/guid.h"

namespace apm {

std::string RandomGuid() {
  std::array<uint8_t, 16> bytes;
  if (RAND_bytes(bytes.data(), int(bytes.size())) != 1) std::abort();  // no entropy: unsafe
  return FormatGuidV4(bytes);
}

std::string RandomToken(size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), int(bytes)) != 1) std::abort();
  return Base64UrlEncodeNoPad(raw);
}

}  // namespace apm
