// A fresh RSA key and a self-signed certificate for it, in PEM, for tests of certificate
// credentials (client assertions, TLS).
#pragma once

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <string>

namespace apm::testing {

struct TestCertificate {
  std::string certificate_pem;
  std::string private_key_pem;
  EVP_PKEY* key = nullptr;  // owned

  TestCertificate() = default;
  TestCertificate(const TestCertificate&) = delete;
  TestCertificate& operator=(const TestCertificate&) = delete;
  ~TestCertificate() { EVP_PKEY_free(key); }

  static std::string BioText(BIO* bio) {
    char* data = nullptr;
    long len = BIO_get_mem_data(bio, &data);
    std::string text(data, size_t(len));
    BIO_free(bio);
    return text;
  }

  // RSA 2048, valid for a day from now, CN=`common_name`.
  explicit TestCertificate(const char* common_name) {
    key = EVP_RSA_gen(2048);
    X509* x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_set_pubkey(x, key);
    X509_NAME* name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(common_name), -1, -1, 0);
    X509_set_issuer_name(x, name);
    X509_sign(x, key, EVP_sha256());
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(bio, x);
    certificate_pem = BioText(bio);
    X509_free(x);
    bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
    private_key_pem = BioText(bio);
  }
};

}  // namespace apm::testing
