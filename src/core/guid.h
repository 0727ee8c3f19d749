// GUID text (RFC 4122 version 4) from 16 bytes of whatever randomness the caller has.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace apm {

// Sets the version and variant bits of `bytes` and formats them as 8-4-4-4-12 lower-case hex.
std::string FormatGuidV4(std::array<uint8_t, 16> bytes);

// 8-4-4-4-12 hex digits (either case), as Entra object ids and old clients' job ids are.
bool IsGuid(std::string_view id);

}  // namespace apm
