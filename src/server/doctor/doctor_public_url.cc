// The doctor's look at PublicUrl: the address in every QR code, approval link and sign-in
// redirect must answer, with a certificate devices and browsers trust, and not about to end.
#include "server/doctor/doctor.h"
#include "server/http/peer_certificate.h"

namespace apm {

void Doctor::CheckPublicUrl() {
  const std::string check = "public URL";
  if (config_.PublicUrl.empty()) {
    Add(check, DoctorVerdict::kOk,
        "PublicUrl is not set: links are made from each request's Host (and trusted proxy "
        "headers)");
    return;
  }
  OutboundRequest request;
  request.url = config_.PublicUrl + (config_.PublicUrl.ends_with("/") ? "" : "/") + "healthz";
  request.timeout = std::chrono::seconds(15);
  Result<OutboundResponse> answer = public_http_.Send(request);
  // Not reaching it at all may be this machine's view only (split DNS, no hairpin NAT): a
  // warning. Reaching it with a certificate this machine does not trust is a failure.
  const std::string error = answer.ok() ? "" : answer.status().message();
  const bool unreached =
      !answer.ok() &&
      (error.find("resolve") != std::string::npos || error.find("connect") != std::string::npos ||
       error.find("imeout") != std::string::npos || error.find("imed out") != std::string::npos);
  if (!answer.ok()) {
    Add(check, unreached ? DoctorVerdict::kWarning : DoctorVerdict::kFailed,
        "cannot reach " + request.url + " with this machine's trust: " + error,
        unreached ? "PublicUrl must be the address devices and browsers use: check DNS, the "
                    "firewall and any proxy in front of the server (a server that cannot reach "
                    "its own public address shows this while devices can)"
                  : "PublicUrl must be served with a certificate devices and browsers trust (a "
                    "public CA, or your own CA deployed to devices)");
  } else if (answer->status != 200) {
    Add(check, DoctorVerdict::kWarning,
        request.url + " answers HTTP " + std::to_string(answer->status) + ", not 200",
        "PublicUrl should lead to this server: check the proxy or load balancer in front of it");
  } else {
    Add(check, DoctorVerdict::kOk, request.url + " answers");
  }
  if (!config_.PublicUrl.starts_with("https://") || unreached || cancelled_) return;
  Result<int64_t> end =
      PeerCertificateEndMs(config_.PublicUrl, std::chrono::seconds(15), cancelled_);
  if (!end.ok()) {
    if (answer.ok()) {
      Add("public certificate", DoctorVerdict::kWarning,
          "its end date could not be read: " + end.status().message());
    }
    return;
  }
  AddExpiry("public certificate", "the certificate PublicUrl presents", *end,
            "renew the certificate of PublicUrl (TlsCertificateFile, or the proxy's); the "
            "server reloads its files when they change");
}

}  // namespace apm
