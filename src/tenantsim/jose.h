// Small JOSE pieces shared by the client-assertion checks and the sign-in provider: base64url
// decoding and RS256 signatures through OpenSSL EVP.
#pragma once

#include <openssl/evp.h>

#include <optional>
#include <string>
#include <string_view>

namespace apm::sim {

// base64url without padding (RFC 7515 §2); nullopt for anything else.
std::optional<std::string> Base64UrlDecode(std::string_view text);

// RSASSA-PKCS1-v1_5 with SHA-256 over `data`; nullopt when OpenSSL fails.
std::optional<std::string> SignRs256(EVP_PKEY* key, std::string_view data);
bool VerifyRs256(EVP_PKEY* key, std::string_view signed_part, std::string_view signature);

}  // namespace apm::sim
