#include "server/random_guid.h"

#include <openssl/rand.h>

#include <cstdlib>

#include "core/guid.h"

namespace apm {

std::string RandomGuid() {
  std::array<uint8_t, 16> bytes;
  if (RAND_bytes(bytes.data(), int(bytes.size())) != 1) std::abort();  // no entropy: unsafe
  return FormatGuidV4(bytes);
}

}  // namespace apm
