// The certificate credential `setup entra` makes for the app registration: an RSA key and a
// self-signed certificate (Entra checks a client assertion's signature against the uploaded
// certificate, not a chain), and the facts read back from a certificate file.
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"

namespace apm {

struct AppCertificate {
  std::string certificate_pem;
  std::string private_key_pem;
};

// RSA 3072, SHA-256, CN=`common_name`, valid from now for `days`.
Result<AppCertificate> MakeAppCertificate(const std::string& common_name, int64_t days);

struct CertificateFacts {
  std::string der_base64;  // as Graph's keyCredentials carry the certificate ("key")
  int64_t end_ms = 0;      // notAfter
};

// The first certificate in `pem`; an error when there is none.
Result<CertificateFacts> ReadCertificateFacts(const std::string& pem);

}  // namespace apm
