// The sign-in's id_token check: the input is either a token as it arrives (any bytes) or, when
// it is a JSON object, claims that a fixed key of the tenant simulator signs first, so that the
// claim checks behind the signature are reached too. The JWKS parser gets the input as well.
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "fuzz_input.h"
#include "server/auth/id_token.h"
#include "tenantsim/signing_keys.h"

namespace {

apm::sim::SigningKeys& Signer() {
  static apm::sim::SigningKeys signer;
  return signer;
}

const apm::auth::JsonWebKeySet& Keys() {
  static std::shared_ptr<const apm::auth::JsonWebKeySet> keys =
      apm::auth::JsonWebKeySet::Parse(Signer().Jwks().dump()).value();
  return *keys;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = apm::fuzz::Bytes(data, size);
  apm::auth::IdTokenExpectations expect{.issuer = "https://login.microsoftonline.com/t/v2.0",
                                        .audience = "11111111-1111-4111-8111-111111111111",
                                        .nonce = "n-0S6_WzA2Mj",
                                        .tenant_id = "00000000-0000-4000-8000-000000000001",
                                        .now_s = 1'800'000'000};
  (void)apm::auth::VerifyIdToken(text, Keys(), expect);
  nlohmann::json claims = nlohmann::json::parse(text, nullptr, false);
  if (claims.is_object()) {
    apm::Result<std::string> token = Signer().SignJwt(claims);
    if (token.ok()) {
      apm::Result<apm::auth::IdentityClaims> who = apm::auth::VerifyIdToken(*token, Keys(), expect);
      // Accepted only with every expectation met.
      if (who.ok() && (claims.value("nonce", "") != expect.nonce || who->oid.empty())) std::abort();
    }
  }
  (void)apm::auth::JsonWebKeySet::Parse(text);
  return 0;
}
