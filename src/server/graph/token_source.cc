#include "server/graph/token_source.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <nlohmann/json.hpp>

#include "core/base64.h"
#include "server/http/form.h"
#include "server/json_text.h"
#include "server/random_guid.h"

namespace apm {
namespace {

using json = nlohmann::json;

}  // namespace

struct ClientCredentialsTokenSource::KeyMaterial {
  EVP_PKEY* key = nullptr;
  std::string x5t;  // base64url SHA-1 thumbprint of the certificate, as Entra expects
  ~KeyMaterial() { EVP_PKEY_free(key); }
};

Result<std::unique_ptr<ClientCredentialsTokenSource>> ClientCredentialsTokenSource::Create(
    AppCredentials credentials, OutboundHttp& http, const Clock& clock) {
  if (credentials.tenant.empty() || credentials.client_id.empty()) {
    return Status::InvalidArgument("the tenant and the client id are both required");
  }
  std::unique_ptr<KeyMaterial> key;
  if (!credentials.certificate_file.empty()) {
    key = std::make_unique<KeyMaterial>();
    FILE* f = std::fopen(credentials.certificate_file.c_str(), "r");
    if (!f) return Status::InvalidArgument("cannot read " + credentials.certificate_file);
    X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
    std::fclose(f);
    if (!cert) {
      return Status::InvalidArgument(credentials.certificate_file + " holds no PEM certificate");
    }
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    X509_digest(cert, EVP_sha1(), digest, &len);
    key->x5t = Base64UrlEncodeNoPad(std::string_view(reinterpret_cast<char*>(digest), len));
    EVP_PKEY* cert_key = X509_get_pubkey(cert);
    X509_free(cert);
    const std::string& key_file = credentials.private_key_file.empty()
                                      ? credentials.certificate_file
                                      : credentials.private_key_file;
    f = std::fopen(key_file.c_str(), "r");
    if (!f) {
      EVP_PKEY_free(cert_key);
      return Status::InvalidArgument("cannot read " + key_file);
    }
    key->key = PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
    std::fclose(f);
    bool matches = key->key && EVP_PKEY_eq(key->key, cert_key) == 1;
    bool rsa = key->key && EVP_PKEY_is_a(key->key, "RSA");
    EVP_PKEY_free(cert_key);
    if (!key->key) return Status::InvalidArgument(key_file + " holds no PEM private key");
    if (!rsa) return Status::InvalidArgument(key_file + ": the key must be RSA (RS256)");
    if (!matches) {
      return Status::InvalidArgument(key_file + " does not belong to the certificate in " +
                                     credentials.certificate_file);
    }
  } else if (credentials.client_secret.empty()) {
    return Status::InvalidArgument("a client secret or a certificate is required");
  }
  return std::unique_ptr<ClientCredentialsTokenSource>(
      new ClientCredentialsTokenSource(std::move(credentials), http, clock, std::move(key)));
}

ClientCredentialsTokenSource::ClientCredentialsTokenSource(AppCredentials credentials,
                                                           OutboundHttp& http, const Clock& clock,
                                                           std::unique_ptr<KeyMaterial> key)
    : credentials_(std::move(credentials)), http_(http), clock_(clock), key_(std::move(key)) {}

ClientCredentialsTokenSource::~ClientCredentialsTokenSource() = default;

std::string ClientCredentialsTokenSource::token_url() const {
  std::string base = credentials_.login_endpoint;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + "/" + credentials_.tenant + "/oauth2/v2.0/token";
}

int64_t ClientCredentialsTokenSource::fetches() const {
  return fetches_.load();
}

Result<std::string> ClientCredentialsTokenSource::SignedAssertion() {
  int64_t now = clock_.NowMs() / 1000;
  json header = {{"alg", "RS256"}, {"typ", "JWT"}, {"x5t", key_->x5t}};
  json claims = {{"aud", token_url()},
                 {"iss", credentials_.client_id},
                 {"sub", credentials_.client_id},
                 {"jti", RandomGuid()},
                 {"nbf", now - 60},  // a minute of slack for a fast server clock

                 {"iat", now},
                 {"exp", now + 600}};
  std::string signing_input =
      Base64UrlEncodeNoPad(JsonText(header)) + "." + Base64UrlEncodeNoPad(JsonText(claims));
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t sig_len = 0;
  std::string sig;
  bool ok = ctx && EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key_->key) == 1 &&
            EVP_DigestSign(ctx, nullptr, &sig_len,
                           reinterpret_cast<const unsigned char*>(signing_input.data()),
                           signing_input.size()) == 1;
  if (ok) {
    sig.resize(sig_len);
    ok = EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &sig_len,
                        reinterpret_cast<const unsigned char*>(signing_input.data()),
                        signing_input.size()) == 1;
    sig.resize(sig_len);
  }
  EVP_MD_CTX_free(ctx);
  if (!ok) return Status::Internal("signing the client assertion failed");
  return signing_input + "." + Base64UrlEncodeNoPad(sig);
}

Result<std::string> ClientCredentialsTokenSource::AccessToken() {
  std::lock_guard lock(mu_);
  int64_t now = clock_.NowMs();
  if (!token_.empty() && now < renew_at_ms_) return token_;
  // A refusal is remembered briefly, so many waiting calls do not each ask Entra again.
  if (now < failed_until_ms_) return failure_;
  Result<std::string> fetched = Fetch(now);
  if (!fetched.ok()) {
    failure_ = fetched.status();
    failed_until_ms_ = now + kFailureMemoryMs;
  }
  return fetched;
}

Result<std::string> ClientCredentialsTokenSource::Fetch(int64_t now) {
  std::string body =
      "grant_type=client_credentials&client_id=" + FormEncode(credentials_.client_id) +
      "&scope=" + FormEncode(credentials_.scope);
  if (key_) {
    Result<std::string> assertion = SignedAssertion();
    if (!assertion.ok()) return assertion.status();
    body += "&client_assertion_type=" +
            FormEncode("urn:ietf:params:oauth:client-assertion-type:jwt-bearer") +
            "&client_assertion=" + *assertion;
  } else {
    body += "&client_secret=" + FormEncode(credentials_.client_secret);
  }
  OutboundRequest request;
  request.method = "POST";
  request.url = token_url();
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                     {"Accept", "application/json"}};
  request.body = std::move(body);
  request.timeout = std::chrono::seconds(20);
  ++fetches_;
  Result<OutboundResponse> response = http_.Send(request);
  if (!response.ok()) {
    return Status::Unavailable("token request to " + request.url +
                               " failed: " + response.status().message());
  }
  json answer = json::parse(response->body, nullptr, false);
  if (response->status != 200) {
    std::string why = answer.is_object() && answer.contains("error_description") &&
                              answer["error_description"].is_string()
                          ? answer["error_description"].get<std::string>()
                          : "HTTP " + std::to_string(response->status);
    why = why.substr(0, why.find("\r\n"));  // Entra appends trace and correlation lines
    std::string what = "Entra ID refused the token request for app " + credentials_.client_id +
                       " in tenant " + credentials_.tenant + ": " + why;
    if (response->status >= 500 || response->status == 429) return Status::Unavailable(what);
    return Status::PermissionDenied(what);
  }
  if (!answer.is_object() || !answer.contains("access_token") ||
      !answer["access_token"].is_string() || !answer.contains("expires_in") ||
      !answer["expires_in"].is_number()) {
    return Status::Unavailable("the token answer from " + request.url +
                               " has no access_token/expires_in");
  }
  int64_t lifetime_ms = answer["expires_in"].get<int64_t>() * 1000;
  // Renew five minutes early, or at 90% of a shorter lifetime.
  int64_t margin = std::min<int64_t>(300'000, lifetime_ms / 10);
  token_ = answer["access_token"].get<std::string>();
  renew_at_ms_ = now + lifetime_ms - margin;
  return token_;
}

void ClientCredentialsTokenSource::Invalidate(const std::string& token) {
  std::lock_guard lock(mu_);
  if (token == token_) token_.clear();
}

}  // namespace apm
