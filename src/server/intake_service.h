// Accepting a device request: rate limit, validation, hash verification and allow-list, then a
// durable insert. Knows nothing of HTTP, so the v1 API and the compatibility API share it.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/guid.h"
#include "core/validation.h"
#include "server/clock.h"
#include "server/config.h"
#include "server/rate_limiter.h"
#include "server/store/request_store.h"
#include "server/store/session_store.h"

namespace apm {

struct IntakeResult {
  enum class Kind {
    kCreated,
    kExisting,     // an open request for this serial and hash already existed; it is returned
    kSerialBusy,   // an open request for this serial has another hash; nothing is revealed
    kInvalid,      // a field is wrong: `invalid`
    kRefused,      // verification or allow-list: `refusal_code`, `refusal_message`
    kRateLimited,  // `retry_after_seconds`
    kTooManyOpen,
    kIdTaken,
    kUnavailable,  // the store failed: `error`
    // The validation function gave no answer and FunctionFailurePolicy is refuse:
    // `refusal_message` says so; the device may try again.
    kDecisionUnavailable,
  };
  Kind kind = Kind::kUnavailable;
  StoredRequest request;
  FieldError invalid;
  std::string refusal_code;
  std::string refusal_message;
  int64_t retry_after_seconds = 0;
  Status error;
};

// A new unguessable request id: 144 random bits, base64url (24 characters), never starting
// with '-' or '_'.
std::string NewRequestId();
// Our ids and the GUIDs old clients choose; anything else cannot name a request.
bool LooksLikeRequestId(std::string_view id);
// The form an id is stored under: GUIDs in lower case, our ids as they are.
std::string CanonicalRequestId(std::string_view id);

class ApprovalService;
class DecisionHooks;
struct HookDevice;

class IntakeService {
 public:
  IntakeService(const Config& config, RequestStore& store, const Clock& clock,
                RateLimiter& limiter);

  // Asks the customer's decision functions about each new request (decision_hooks.h) and
  // approves through `approvals` when the auto-approval function says so; every answer is
  // recorded in `audit`.
  void UseDecisionHooks(const DecisionHooks* hooks, ApprovalService* approvals,
                        SessionStore* audit);
  // Records uploads (and, with the hooks, the functions' answers) in `audit`.
  void AuditTo(SessionStore* audit) { audit_ = audit; }

  // `api` is "v1" or "compat"; `client_id`, when not empty, is an id an old client chose;
  // `requested` is what the user asks for (an import, or removing the Intune record).
  // `bypass_functions`: the old client's BYPASS, which skips the validation and auto-approval
  // functions (the request then needs an approver).
  IntakeResult Submit(DeviceSubmission submission, const std::string& client_address,
                      std::string_view api, const std::string& client_id,
                      ApprovalAction requested = ApprovalAction::kImport,
                      bool bypass_functions = false);

  // A reseller's or OEM's CSV (core/autopilot_csv.h) uploaded by an approver or the admin
  // (`who`): each row becomes a request with the usual validation, hash verification and
  // allow-list, its manufacturer and model read from its hash, its Group Tag and Assigned User
  // kept as the approval's defaults. No rate limit, no per-address cap and no decision functions:
  // a person uploads, and approves. An error only about the file as a whole.
  struct UploadOutcome {
    int line = 0;
    std::string serial_number;
    std::string request_id;  // "" when refused
    bool existing = false;   // the serial already had this open request
    std::string refusal;     // why the row became no request
    std::string group_tag;   // the row's Group Tag column
  };
  // Who uploads: a name (UPN, or "cli:USER"), and from the web their oid and address.
  struct Uploader {
    std::string name;
    std::string oid;
    std::string address;
  };
  Result<std::vector<UploadOutcome>> SubmitUpload(std::string_view csv, const Uploader& by);

 private:
  struct UploadedRow {
    std::string group_tag;
    std::string assigned_user;
  };
  IntakeResult Accept(DeviceSubmission submission, const std::string& client_address,
                      std::string_view api, const std::string& client_id, ApprovalAction requested,
                      bool bypass_functions, const UploadedRow* uploaded);
  // An answer for the audit trail, recorded once the request's fate (and id) is known.
  using HookNote = std::pair<std::string, std::string>;  // action, detail
  // The validation and group tag functions, before the request is stored; fills in `r`'s
  // verdict and proposed tag, or `out` when the device is refused (returns false then).
  bool AskBeforeStoring(StoredRequest& r, HookDevice& device, bool bypass,
                        std::chrono::steady_clock::time_point deadline, IntakeResult& out,
                        std::vector<HookNote>& notes);
  // The auto-approval function, about a request just stored; the approved request, if it was.
  std::optional<StoredRequest> AskToApprove(const StoredRequest& r, const HookDevice& device,
                                            std::chrono::steady_clock::time_point deadline);
  void Record(std::string_view action, const std::string& request_id, std::string detail,
              const std::string& actor = "system", const Uploader* uploader = nullptr);

  const Config& config_;
  RequestStore& store_;
  const Clock& clock_;
  RateLimiter& limiter_;
  const DecisionHooks* hooks_ = nullptr;
  ApprovalService* approvals_ = nullptr;
  SessionStore* audit_ = nullptr;
};

}  // namespace apm
