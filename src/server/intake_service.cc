#include "server/intake_service.h"

#include <openssl/rand.h>

#include <limits>

#include <nlohmann/json.hpp>

#include "core/base64.h"
#include "core/corporate_identifier.h"
#include "core/hardware_hash.h"
#include "server/decision_hooks.h"
#include "server/hash_facts.h"
#include "server/json_text.h"
#include "server/logging.h"

namespace apm {
namespace {

std::string HashFacts(const Result<HardwareHashInfo>& decoded) {
  if (!decoded.ok()) return JsonText(nlohmann::json{{"error", decoded.status().message()}});
  return JsonText(HashFactsJson(*decoded));
}

// A new request waiting for approval, with the device's fields as submitted.
// A corporate identifier request: the text fields as for a hash, and an identifier Intune
// accepts (docs/graph-facts.md#apv2).
std::optional<FieldError> ValidateIdentifierSubmission(DeviceSubmission& s) {
  if (auto e = CheckText("serialNumber", s.serial_number, 1, kMaxSerialLength)) return e;
  if (auto e = CheckText("manufacturer", s.manufacturer, 1, kMaxNameLength)) return e;
  if (auto e = CheckText("model", s.model, 1, kMaxNameLength)) return e;
  if (auto e = CheckText("clientVersion", s.client_version, 0, 64)) return e;
  CorporateIdentifier id;
  return MakeCorporateIdentifier(s.manufacturer, s.model, s.serial_number, &id);
}

StoredRequest PendingRequest(const DeviceSubmission& submission, const std::string& client_address,
                             std::string_view api, int64_t now) {
  StoredRequest r;
  r.id = NewRequestId();
  r.serial_number = submission.serial_number;
  r.manufacturer = submission.manufacturer;
  r.model = submission.model;
  r.hardware_hash = submission.hardware_hash;
  r.product_key = submission.product_key;
  r.client_version = submission.client_version;
  r.client_address = client_address;
  r.api = std::string(api);
  r.state = RequestState::kPendingApproval;
  r.step = std::string(RequestStateStep(r.state));
  r.created_at = r.updated_at = now;
  return r;
}

// What the store's answer means for the client, logged where someone may want to look.
IntakeResult::Kind KindOf(CreateOutcome::Kind created, const StoredRequest& r,
                          const std::string& fingerprint, const std::string& client_address) {
  switch (created) {
    case CreateOutcome::Kind::kCreated:
      LogInfo("request created", {{"id", r.id},
                                  {"serial", r.serial_number},
                                  {"hash", fingerprint},
                                  {"verification", r.verification},
                                  {"api", r.api},
                                  {"asks", r.requested_action},
                                  {"client", client_address}});
      return IntakeResult::Kind::kCreated;
    case CreateOutcome::Kind::kExistingOpenForSerial:
      return IntakeResult::Kind::kExisting;
    case CreateOutcome::Kind::kOpenForSerialWithOtherHash:
      LogWarn("submission for a serial with an open request and another hash",
              {{"serial", r.serial_number}, {"hash", fingerprint}, {"client", client_address}});
      return IntakeResult::Kind::kSerialBusy;
    case CreateOutcome::Kind::kIdTaken:
      return IntakeResult::Kind::kIdTaken;
    case CreateOutcome::Kind::kTooManyOpenForAddress:
      LogWarn("too many open requests from one address", {{"client", client_address}});
      return IntakeResult::Kind::kTooManyOpen;
  }
  return IntakeResult::Kind::kUnavailable;
}

}  // namespace

std::string NewRequestId() {
  // 144 random bits (24 characters). An id starting with '-' or '_' is drawn again, so ids
  // never look like command-line options; that costs less than 0.05 bits.
  for (;;) {
    unsigned char bytes[18];
    if (RAND_bytes(bytes, sizeof bytes) != 1) std::abort();  // no entropy: nothing is safe
    std::string id =
        Base64UrlEncodeNoPad(std::string_view(reinterpret_cast<char*>(bytes), sizeof bytes));
    if (id[0] != '-' && id[0] != '_') return id;
  }
}

std::string CanonicalRequestId(std::string_view id) {
  std::string out(id);
  if (IsGuid(out)) {
    for (char& c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

bool LooksLikeRequestId(std::string_view id) {
  if (IsGuid(id)) return true;
  if (id.size() != 24) return false;
  for (char c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  }
  return true;
}

IntakeService::IntakeService(const Config& config, RequestStore& store, const Clock& clock,
                             RateLimiter& limiter)
    : config_(config), store_(store), clock_(clock), limiter_(limiter) {}

IntakeResult IntakeService::Submit(DeviceSubmission submission, const std::string& client_address,
                                   std::string_view api, const std::string& client_id,
                                   ApprovalAction requested, bool bypass_functions) {
  if (std::optional<int64_t> wait = limiter_.Take(client_address)) {
    IntakeResult out;
    out.kind = IntakeResult::Kind::kRateLimited;
    out.retry_after_seconds = *wait;
    LogWarn("submission rate limited", {{"client", client_address}, {"retry_after", *wait}});
    return out;
  }
  return Accept(std::move(submission), client_address, api, client_id, requested, bypass_functions,
                nullptr);
}

IntakeResult IntakeService::Accept(DeviceSubmission submission, const std::string& client_address,
                                   std::string_view api, const std::string& client_id,
                                   ApprovalAction requested, bool bypass_functions,
                                   const UploadedRow* uploaded) {
  IntakeResult out;
  // UseAutopilotV2ModeOnly: every device is registered by its corporate identifier.
  if (config_.UseAutopilotV2ModeOnly && requested == ApprovalAction::kImport) {
    requested = ApprovalAction::kRegisterCorporateIdentifier;
  }
  const bool identifier_only = requested == ApprovalAction::kRegisterCorporateIdentifier;
  if (identifier_only) submission.hardware_hash.clear();  // an identifier has no hash
  std::string blob;
  if (std::optional<FieldError> e = identifier_only ? ValidateIdentifierSubmission(submission)
                                                    : ValidateSubmission(submission, &blob)) {
    out.kind = IntakeResult::Kind::kInvalid;
    out.invalid = *e;
    return out;
  }
  Result<HardwareHashInfo> decoded = identifier_only
                                         ? Result<HardwareHashInfo>(Status::NotFound("no hash"))
                                         : DecodeHardwareHash(blob);
  VerificationOutcome v =
      VerifyDevice(submission, decoded,
                   identifier_only ? HashVerificationMode::kOff : config_.hash_verification_mode(),
                   config_.allow_list());
  std::string fingerprint =
      identifier_only ? std::string() : HashFingerprint(submission.hardware_hash);
  if (v.refused) {
    out.kind = IntakeResult::Kind::kRefused;
    out.refusal_code = v.refusal_code;
    out.refusal_message = v.refusal_message;
    LogWarn("submission refused", {{"reason", v.refusal_code},
                                   {"serial", submission.serial_number},
                                   {"hash", fingerprint},
                                   {"client", client_address}});
    return out;
  }
  if (v.verdict == VerificationOutcome::Verdict::kMismatch) {
    LogWarn("hash does not match the device's claims (HashVerification=warn)",
            {{"serial", submission.serial_number}, {"hash", fingerprint}});
  }

  int64_t now = clock_.NowMs();
  StoredRequest r = PendingRequest(submission, client_address, api, now);
  r.hash_fingerprint = fingerprint;
  r.verification = VerdictName(v.verdict);
  r.hash_facts = HashFacts(decoded);
  r.expires_at = now + config_.Timeout * 60 * 1000;
  r.requested_action = std::string(ApprovalActionName(requested));

  // The original's order: validation and group tag before storing, auto-approval after.
  const auto deadline = std::chrono::steady_clock::now() + kHookBudgetPerSubmission;
  HookDevice device{HookRequestGuid(client_id.empty() ? r.id : client_id),
                    r.serial_number,
                    r.hardware_hash,
                    r.manufacturer,
                    r.model,
                    std::nullopt,
                    bypass_functions                                    ? "BYPASS"
                    : requested == ApprovalAction::kRemoveManagedDevice ? "DELETE"
                                                                        : "IMPORT",
                    now};
  if (uploaded) {
    r.proposed_group_tag = uploaded->group_tag;
    r.proposed_user = uploaded->assigned_user;
  }
  std::vector<HookNote> notes;
  if (hooks_ && !uploaded) {
    // The original's first check: an old client's id already taken asks no function.
    if (!client_id.empty() && store_.Get(client_id).ok()) {
      out.kind = IntakeResult::Kind::kIdTaken;
      return out;
    }
    if (!AskBeforeStoring(r, device, bypass_functions, deadline, out, notes)) return out;
  }

  // An upload is one person's many devices: the per-address cap is for anonymous clients.
  Result<CreateOutcome> created = store_.Create(
      r, uploaded ? std::numeric_limits<int64_t>::max() : config_.MaxOpenRequestsPerAddress,
      client_id);
  if (!created.ok()) {
    out.kind = IntakeResult::Kind::kUnavailable;
    out.error = created.status();
    LogError("storing a request failed", {{"error", created.status().ToString()}});
    return out;
  }
  out.kind = KindOf(created->kind, r, fingerprint, client_address);
  out.request = std::move(created->request);
  const bool stored =
      out.kind == IntakeResult::Kind::kCreated || out.kind == IntakeResult::Kind::kExisting;
  for (auto& [action, detail] : notes) {
    Record(action, stored ? out.request.id : "", detail + (stored ? "" : "; not stored"));
  }
  if (hooks_ && !uploaded && out.kind == IntakeResult::Kind::kCreated && !bypass_functions) {
    if (std::optional<StoredRequest> approved = AskToApprove(out.request, device, deadline)) {
      out.request = std::move(*approved);
    }
  }
  return out;
}

}  // namespace apm
