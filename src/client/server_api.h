// The v1 client API of apm-server (docs/api.md), spoken over an HttpClient.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "client/hardware_probe.h"
#include "client/http_client.h"
#include "core/request_state.h"
#include "core/status.h"

namespace apm::client {

struct RequestStatus {
  std::string id;
  RequestState state = RequestState::kPendingApproval;
  std::string step;
  bool terminal = false;
  bool self_service = false;  // mode: scan and sign in (else: call the helpdesk)
  std::string approval_url;
  std::string serial_number, manufacturer, model;
  std::string verification;
  std::optional<RequestError> error;
  std::vector<std::string> qr_rows;  // '1' = dark module, without the quiet zone
};

// Parses the status object; names the field that is missing or wrong.
Result<RequestStatus> ParseRequestStatus(const std::string& json_text);

// Why the server refused a submission, when it did (403/400/413/415/429).
struct SubmitRefusal {
  int http_status = 0;
  std::string code;  // "manufacturer_not_allowed", "hash_mismatch", "invalid_field", …
  std::string message;
};

struct SubmitOutcome {
  std::optional<RequestStatus> request;  // accepted (201) or an open request (200)
  std::optional<SubmitRefusal> refusal;
};

struct PollOutcome {
  bool not_modified = false;
  bool not_found = false;
  RequestStatus status;  // when neither of the above
  std::string etag;
};

class ServerApi {
 public:
  // `action`: "" for an import, or "remove_intune_record" (ap -e).
  ServerApi(HttpClient& http, std::string base_url, std::string client_version,
            std::string action = "")
      : http_(http),
        base_url_(std::move(base_url)),
        client_version_(std::move(client_version)),
        action_(std::move(action)) {}

  // kUnavailable on transport failures and 5xx (worth retrying).
  Result<SubmitOutcome> Submit(const DeviceFacts& facts);
  // GET …/requests/{id}?wait=N with If-None-Match `etag` (empty: none).
  Result<PollOutcome> Poll(const std::string& id, const std::string& etag,
                           std::chrono::seconds wait);
  // POST …/requests/{id}/diagnostics: the bundle's number on the server; kUnavailable on
  // transport failures and 5xx, kFailedPrecondition naming the server's reason when refused.
  Result<int64_t> UploadDiagnostics(const std::string& id, const std::string& file_name,
                                    const std::string& zip);
  const std::string& base_url() const { return base_url_; }

 private:
  HttpRequest NewRequest(std::string method, std::string path) const;

  HttpClient& http_;
  std::string base_url_;
  std::string client_version_;
  std::string action_;
};

}  // namespace apm::client
