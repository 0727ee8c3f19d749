// Small pieces the sign-in routes (oidc_provider.cc) and the device code flow
// (oidc_device_code.cc) share.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tenantsim/identity.h"
#include "tenantsim/oidc_provider.h"

namespace apm::sim {

// `bytes` random bytes, base64url without padding.
std::string RandomUrlSafe(size_t bytes);
// The field's value, or "" when absent.
std::string Param(const std::map<std::string, std::string>& params, const char* name);
std::vector<std::string> SplitSpaces(const std::string& text);
// openid, profile, email, offline_access.
bool IsOidcScope(const std::string& s);
OidcAnswer JsonAnswer(int status, const nlohmann::json& body);
OidcAnswer HtmlAnswer(int status, std::string page);
// AADSTS900144 for a missing form field.
TokenError MissingField(const char* name);
std::string TenantNotFound(const std::string& tenant);
// The scopes granted for a requested scope text, as the token answer lists them; the Graph ones
// (what the access token carries) in `graph_scopes`.
std::string GrantedScopes(const std::string& scope, std::vector<std::string>* graph_scopes);

}  // namespace apm::sim
