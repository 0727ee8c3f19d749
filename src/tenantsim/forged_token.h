// Tokens as an attacker would make them, for the simulator's id_token faults: the sign-in code
// under test must refuse every one of them.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace apm::sim {

// Rewrites the signed JWT `token` for `fault`: "tampered" (payload changed after signing, the
// groups claim replaced), "alg-none" (no signature), "hs256" (HMAC-signed with the public key's
// modulus from `jwks` as the secret, the key-confusion attack). Any other fault: unchanged.
std::string ForgeToken(const std::string& token, const std::string& fault,
                       const nlohmann::json& jwks);

}  // namespace apm::sim
