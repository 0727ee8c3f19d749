// The payload of a JWT read without verifying it: for what a token says about itself to its own
// holder (the roles of our app-only token, the tenant of the admin's sign-in). Never for trust.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

namespace apm {

// The claims object, or nullopt when `token` is not three dot-separated parts with a base64url
// JSON object in the middle.
std::optional<nlohmann::json> UnverifiedJwtClaims(std::string_view token);

}  // namespace apm
