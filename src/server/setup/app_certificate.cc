#include "server/setup/app_certificate.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include <ctime>
#include <memory>

#include "core/base64.h"

namespace apm {
namespace {

using BioPtr = std::unique_ptr<BIO, decltype(&BIO_free)>;
using CertificatePtr = std::unique_ptr<X509, decltype(&X509_free)>;
using KeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

std::string BioText(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return len > 0 ? std::string(data, size_t(len)) : std::string();
}

}  // namespace

Result<AppCertificate> MakeAppCertificate(const std::string& common_name, int64_t days) {
  KeyPtr key(EVP_RSA_gen(3072), EVP_PKEY_free);
  CertificatePtr cert(X509_new(), X509_free);
  unsigned char serial[16];
  if (!key || !cert || RAND_bytes(serial, sizeof serial) != 1) {
    return Status::Internal("OpenSSL could not make a key");
  }
  serial[0] &= 0x7f;  // a positive serial number
  std::unique_ptr<BIGNUM, decltype(&BN_free)> bn(BN_bin2bn(serial, sizeof serial, nullptr),
                                                 BN_free);
  X509_NAME* name = X509_get_subject_name(cert.get());
  bool ok = bn && X509_set_version(cert.get(), 2) == 1 &&
            BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get())) &&
            X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0) &&
            X509_gmtime_adj(X509_getm_notAfter(cert.get()), long(days) * 86'400) &&
            X509_set_pubkey(cert.get(), key.get()) == 1 &&
            X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                       reinterpret_cast<const unsigned char*>(common_name.c_str()),
                                       -1, -1, 0) == 1 &&
            X509_set_issuer_name(cert.get(), name) == 1 &&
            X509_sign(cert.get(), key.get(), EVP_sha256()) > 0;
  BioPtr cert_bio(BIO_new(BIO_s_mem()), BIO_free);
  BioPtr key_bio(BIO_new(BIO_s_mem()), BIO_free);
  ok = ok && cert_bio && key_bio && PEM_write_bio_X509(cert_bio.get(), cert.get()) == 1 &&
       PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) ==
           1;
  if (!ok) return Status::Internal("OpenSSL could not make the certificate");
  return AppCertificate{BioText(cert_bio.get()), BioText(key_bio.get())};
}

Result<CertificateFacts> ReadCertificateFacts(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), int(pem.size())), BIO_free);
  CertificatePtr cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr,
                      X509_free);
  std::tm end{};
  if (!cert || ASN1_TIME_to_tm(X509_get0_notAfter(cert.get()), &end) != 1) {
    return Status::InvalidArgument("not a PEM certificate");
  }
  unsigned char* der = nullptr;
  const int len = i2d_X509(cert.get(), &der);
  if (len <= 0) return Status::InvalidArgument("the certificate cannot be encoded");
  std::string bytes(reinterpret_cast<char*>(der), size_t(len));
  OPENSSL_free(der);
  return CertificateFacts{Base64Encode(bytes), int64_t(timegm(&end)) * 1000};
}

}  // namespace apm
