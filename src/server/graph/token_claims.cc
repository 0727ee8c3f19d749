#include "server/graph/token_claims.h"

#include "core/base64.h"

namespace apm {

std::optional<nlohmann::json> UnverifiedJwtClaims(std::string_view token) {
  const size_t first = token.find('.');
  const size_t second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos) return std::nullopt;
  Result<std::string> payload = Base64UrlDecodeNoPad(token.substr(first + 1, second - first - 1));
  if (!payload.ok()) return std::nullopt;
  nlohmann::json claims = nlohmann::json::parse(*payload, nullptr, false);
  if (!claims.is_object()) return std::nullopt;
  return claims;
}

}  // namespace apm
