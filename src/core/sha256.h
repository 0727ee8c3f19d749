// SHA-256 (FIPS 180-4). Hand-written because src/core must build for the Windows client
// with mingw-w64, where Debian ships no OpenSSL; the server could use OpenSSL but one
// implementation serves both and is tested against the NIST vectors.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace apm {

using Sha256Digest = std::array<uint8_t, 32>;

Sha256Digest Sha256(std::string_view data);
std::string ToHex(const uint8_t* data, size_t size);

}  // namespace apm
