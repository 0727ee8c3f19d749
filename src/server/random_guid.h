// A fresh random GUID from the operating system's CSPRNG (via OpenSSL).
#pragma once

#include <cstddef>
#include <string>

namespace apm {

std::string RandomGuid();
// `bytes` random bytes as base64url without padding (session ids, state, nonce, PKCE).
std::string RandomToken(size_t bytes);

}  // namespace apm
