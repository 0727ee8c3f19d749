// libcurl's certificate information (CURLOPT_CERTINFO, OpenSSL backend) rather than a TLS
// connection of our own: the same proxy, resolver and timeout handling as every other call.
#include "server/http/peer_certificate.h"

#include <curl/curl.h>

#include <ctime>
#include <memory>
#include <string_view>

namespace apm {

namespace {

int AbortWhenCancelled(void* cancelled, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<const std::atomic<bool>*>(cancelled)->load() ? 1 : 0;
}

}  // namespace

Result<int64_t> PeerCertificateEndMs(const std::string& url, std::chrono::seconds timeout,
                                     const std::atomic<bool>& cancelled) {
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return Status::Internal("libcurl could not start");
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_CONNECT_ONLY, 1L);  // the handshake shows the certificate
  curl_easy_setopt(curl.get(), CURLOPT_CERTINFO, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl.get(), CURLOPT_XFERINFOFUNCTION, AbortWhenCancelled);
  curl_easy_setopt(curl.get(), CURLOPT_XFERINFODATA, &cancelled);
  curl_easy_setopt(curl.get(), CURLOPT_SSL_VERIFYPEER, 0L);
  curl_easy_setopt(curl.get(), CURLOPT_SSL_VERIFYHOST, 0L);
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT, long(timeout.count()));
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_PROTOCOLS_STR, "https");
  const CURLcode rc = curl_easy_perform(curl.get());
  if (rc != CURLE_OK) return Status::Unavailable(curl_easy_strerror(rc));
  curl_certinfo* info = nullptr;
  if (curl_easy_getinfo(curl.get(), CURLINFO_CERTINFO, &info) != CURLE_OK || !info ||
      info->num_of_certs < 1) {
    return Status::Unavailable("no certificate was presented");
  }
  // "Expire date:Nov 30 09:44:25 2027 GMT" (OpenSSL's ASN1_TIME_print).
  constexpr std::string_view kExpire = "Expire date:";
  for (curl_slist* item = info->certinfo[0]; item; item = item->next) {
    std::string_view line(item->data);
    if (!line.starts_with(kExpire)) continue;
    std::tm end_time{};
    const std::string text(line.substr(kExpire.size()));
    const char* rest = strptime(text.c_str(), "%b %d %H:%M:%S %Y GMT", &end_time);
    if (!rest) break;
    return int64_t(timegm(&end_time)) * 1000;
  }
  return Status::Unavailable("the certificate's end date could not be read");
}

}  // namespace apm
