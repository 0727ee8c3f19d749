#include "tenantsim/client_assertion.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "core/base64.h"
#include "core/text.h"
#include "tenantsim/jose.h"

namespace apm::sim {
namespace {

using json = nlohmann::json;

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

// The clock skew Entra tolerates for nbf.
constexpr int64_t kSkewMs = 5 * 60 * 1000;

X509Ptr LoadCertificate(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), int(pem.size()));
  if (!bio) return nullptr;
  X509Ptr cert(PEM_read_bio_X509(bio, nullptr, nullptr, nullptr));
  BIO_free(bio);
  return cert;
}

TokenError Malformed(const std::string& why) {
  return {400, "invalid_request", 50027, "AADSTS50027: JWT token is invalid or malformed. " + why};
}

TokenError BadSignature(const std::string& why) {
  return {401, "invalid_client", 700027,
          "AADSTS700027: Client assertion failed signature validation. [Reason - " + why + "]"};
}

// A string member, or "" (json::value would throw on another type).
std::string StringClaim(const json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::optional<int64_t> NumericDate(const json& payload, const char* name) {
  auto it = payload.find(name);
  if (it == payload.end() || !it->is_number()) return std::nullopt;
  return int64_t(it->get<double>() * 1000);
}

}  // namespace

Status CheckCertificatePem(const std::string& pem) {
  X509Ptr cert = LoadCertificate(pem);
  if (!cert) return Status::InvalidArgument("no PEM certificate found");
  std::unique_ptr<EVP_PKEY, PkeyFree> key(X509_get_pubkey(cert.get()));
  if (!key || EVP_PKEY_base_id(key.get()) != EVP_PKEY_RSA) {
    return Status::InvalidArgument("the certificate's key is not RSA");
  }
  return Status::Ok();
}

std::optional<UploadedCertificate> CertificateFromBase64Der(const std::string& base64) {
  Result<std::string> der = Base64Decode(base64);
  if (!der.ok() || der->empty()) return std::nullopt;
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der->data());
  X509Ptr cert(d2i_X509(nullptr, &p, long(der->size())));
  if (!cert) return std::nullopt;
  std::tm start{}, end{};
  if (ASN1_TIME_to_tm(X509_get0_notBefore(cert.get()), &start) != 1 ||
      ASN1_TIME_to_tm(X509_get0_notAfter(cert.get()), &end) != 1) {
    return std::nullopt;
  }
  BIO* bio = BIO_new(BIO_s_mem());
  if (!bio) return std::nullopt;
  UploadedCertificate out;
  if (PEM_write_bio_X509(bio, cert.get()) == 1) {
    char* data = nullptr;
    long len = BIO_get_mem_data(bio, &data);
    out.pem.assign(data, size_t(len));
  }
  BIO_free(bio);
  out.start_ms = int64_t(timegm(&start)) * 1000;
  out.end_ms = int64_t(timegm(&end)) * 1000;
  if (out.pem.empty()) return std::nullopt;
  return out;
}

std::string CertificateThumbprint(const std::string& pem) {
  X509Ptr cert = LoadCertificate(pem);
  if (!cert) return "";
  unsigned char* der = nullptr;
  int len = i2d_X509(cert.get(), &der);
  if (len <= 0) return "";
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(der, size_t(len), digest);
  OPENSSL_free(der);
  return Base64UrlEncodeNoPad(std::string_view(reinterpret_cast<char*>(digest), sizeof digest));
}

std::variant<AssertionClaims, TokenError> VerifyClientAssertion(
    std::string_view jwt, const std::string& client_id, const std::string& certificate_pem,
    const std::vector<std::string>& audiences, int64_t now_ms) {
  size_t dot1 = jwt.find('.');
  size_t dot2 = dot1 == std::string_view::npos ? dot1 : jwt.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || jwt.find('.', dot2 + 1) != std::string_view::npos) {
    return Malformed("The token does not have three parts.");
  }
  std::optional<std::string> header_text = Base64UrlDecode(jwt.substr(0, dot1));
  std::optional<std::string> payload_text = Base64UrlDecode(jwt.substr(dot1 + 1, dot2 - dot1 - 1));
  std::optional<std::string> signature = Base64UrlDecode(jwt.substr(dot2 + 1));
  if (!header_text || !payload_text || !signature) {
    return Malformed("A part is not base64url.");
  }
  json header = json::parse(*header_text, nullptr, false);
  json payload = json::parse(*payload_text, nullptr, false);
  if (!header.is_object() || !payload.is_object()) {
    return Malformed("The header or payload is not a JSON object.");
  }

  std::string alg = StringClaim(header, "alg");
  if (alg != "RS256") return BadSignature("The token is signed with '" + alg + "', not RS256.");
  if (certificate_pem.empty()) return BadSignature("The key was not found.");
  X509Ptr cert = LoadCertificate(certificate_pem);
  if (!cert) return BadSignature("The key was not found.");
  if (auto x5t = header.find("x5t"); x5t != header.end()) {
    if (!x5t->is_string() || x5t->get<std::string>() != CertificateThumbprint(certificate_pem)) {
      return BadSignature("The key was not found.");
    }
  }
  std::unique_ptr<EVP_PKEY, PkeyFree> key(X509_get_pubkey(cert.get()));
  if (!key || EVP_PKEY_base_id(key.get()) != EVP_PKEY_RSA ||
      !VerifyRs256(key.get(), jwt.substr(0, dot2), *signature)) {
    return BadSignature("The signature does not match the certificate.");
  }

  if (StringClaim(payload, "iss") != client_id || StringClaim(payload, "sub") != client_id) {
    return TokenError{401, "invalid_client", 700021,
                      "AADSTS700021: Client assertion application identifier doesn't match "
                      "'client_id' parameter."};
  }
  std::string aud = StringClaim(payload, "aud");
  bool aud_ok = false;
  for (const std::string& a : audiences) aud_ok = aud_ok || EqualsIgnoreCase(a, aud);
  if (!aud_ok) {
    return TokenError{401, "invalid_client", 700023,
                      "AADSTS700023: Client assertion audience claim does not match the token "
                      "endpoint. Audience: '" +
                          aud + "'."};
  }
  std::optional<int64_t> exp = NumericDate(payload, "exp");
  if (!exp) return Malformed("The 'exp' claim is missing.");
  std::optional<int64_t> nbf = NumericDate(payload, "nbf");
  if (now_ms >= *exp || (nbf && *nbf > now_ms + kSkewMs)) {
    return TokenError{401, "invalid_client", 700024,
                      "AADSTS700024: Client assertion is not within its valid time range. "
                      "Current time: " +
                          FormatTimestamp(now_ms) + ", assertion valid until " +
                          FormatTimestamp(*exp) + "."};
  }
  std::string jti = StringClaim(payload, "jti");
  if (jti.empty()) return Malformed("The 'jti' claim is missing.");
  return AssertionClaims{jti, *exp};
}

}  // namespace apm::sim
