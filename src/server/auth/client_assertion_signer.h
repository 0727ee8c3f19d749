// A certificate credential's client assertion (RFC 7523 as Entra ID takes it): an RS256 JWT with
// the certificate's SHA-1 thumbprint as x5t, signed with its private key. One signer serves the
// app-only Graph token source and the sign-in's code redemption, for the same app registration.
#pragma once

#include <memory>
#include <string>

#include "core/status.h"

namespace apm {

class ClientAssertionSigner {
 public:
  // Loads the PEM certificate and its RSA private key (`key_file` "" : in the certificate's
  // file); errors name the file and what is wrong with it.
  static Result<std::shared_ptr<const ClientAssertionSigner>> Load(
      const std::string& certificate_file, const std::string& key_file);
  ~ClientAssertionSigner();
  ClientAssertionSigner(const ClientAssertionSigner&) = delete;
  ClientAssertionSigner& operator=(const ClientAssertionSigner&) = delete;

  // An assertion from `client_id` for `audience` (the token endpoint), valid ten minutes from
  // `now_s`.
  Result<std::string> Sign(const std::string& client_id, const std::string& audience,
                           int64_t now_s) const;
  // The token request's form fields carrying it: "client_assertion_type=…&client_assertion=…".
  Result<std::string> FormFields(const std::string& client_id, const std::string& audience,
                                 int64_t now_s) const;

 private:
  struct Key;
  explicit ClientAssertionSigner(std::unique_ptr<Key> key);
  std::unique_ptr<Key> key_;
};

}  // namespace apm
