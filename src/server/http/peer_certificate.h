// When the TLS certificate an https URL presents ends, read without trusting it (the doctor
// reports trust separately, from a verified request, and the end date of an untrusted
// certificate is worth knowing too).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "core/status.h"

namespace apm {

// The notAfter of the server's own (first) certificate, in ms since the epoch. Only the TLS
// handshake is made; `cancelled` becoming true ends it at once (shutdown).
Result<int64_t> PeerCertificateEndMs(const std::string& url, std::chrono::seconds timeout,
                                     const std::atomic<bool>& cancelled);

}  // namespace apm
