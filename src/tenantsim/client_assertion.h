// Certificate credentials on the token endpoint: the client assertion, a JWT the app signs with
// its certificate's private key. Checked as Entra does: RS256 only, the certificate's public key,
// audience, issuer and subject, validity time with 5 minutes of clock skew for nbf, and the
// optional x5t thumbprint. Facts: docs/graph-facts.md#certificate-assertion.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/status.h"
#include "tenantsim/identity.h"

namespace apm::sim {

inline constexpr std::string_view kJwtBearerAssertionType =
    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

// What a verified assertion leaves for the caller: the replay check needs jti and its expiry.
struct AssertionClaims {
  std::string jti;
  int64_t exp_ms;
};

// Verifies `jwt` for `client_id` against the PEM certificate. `audiences` lists the token
// endpoint URLs the assertion may be addressed to. Errors as Entra's AADSTS answers:
// 50027 malformed, 700021 iss/sub, 700023 aud, 700024 time, 700027 signature or certificate.
std::variant<AssertionClaims, TokenError> VerifyClientAssertion(
    std::string_view jwt, const std::string& client_id, const std::string& certificate_pem,
    const std::vector<std::string>& audiences, int64_t now_ms);

// Whether `pem` holds an X.509 certificate with an RSA public key (checked at start-up).
Status CheckCertificatePem(const std::string& pem);

// A certificate given as base64 of its DER form (Graph's keyCredentials `key`) in PEM, with its
// validity (ms); nullopt when it is not a certificate.
struct UploadedCertificate {
  std::string pem;
  int64_t start_ms = 0, end_ms = 0;
};
std::optional<UploadedCertificate> CertificateFromBase64Der(const std::string& base64);

// The certificate's x5t: base64url SHA-1 of its DER form; "" when `pem` is not a certificate.
std::string CertificateThumbprint(const std::string& pem);

}  // namespace apm::sim
