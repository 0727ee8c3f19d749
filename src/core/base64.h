// Standard (RFC 4648 §4) and URL-safe (§5) base64.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace apm {

std::string Base64Encode(std::string_view bytes);
std::string Base64UrlEncodeNoPad(std::string_view bytes);

// Strict decoder for the standard alphabet: no white space, no URL-safe characters, padding
// optional but correct when present. The error says what and where.
Result<std::string> Base64Decode(std::string_view text);

// base64url without padding (RFC 7515 §2), as in JWTs; padding or the standard alphabet's
// '+' and '/' are errors.
Result<std::string> Base64UrlDecodeNoPad(std::string_view text);

}  // namespace apm
