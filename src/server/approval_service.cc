#include "server/approval_service.h"

#include "core/base64.h"
#include "core/hardware_hash.h"
#include "core/text.h"
#include "core/validation.h"
#include "server/logging.h"

namespace apm {

std::vector<GroupTagChoice> GroupTagChoices(const Config& config) {
  std::vector<GroupTagChoice> choices;
  for (const std::string& entry : config.ApprovalModeGroupTags) {
    size_t eq = entry.find('=');
    std::string name = Trim(entry.substr(0, eq));
    std::string label = eq == std::string::npos ? name : Trim(entry.substr(eq + 1));
    bool none = name.size() >= 4 && EqualsIgnoreCase(name.substr(0, 4), "none");
    choices.push_back({none ? "" : name, label});
  }
  return choices;
}

ApprovalService::ApprovalService(const Config& config, RequestStore& store, const Clock& clock,
                                 SessionStore* audit)
    : config_(config), store_(store), clock_(clock), audit_(audit) {}

void ApprovalService::Record(const DecisionContext& context, const std::string& who,
                             std::string action, const std::string& request_id,
                             std::string detail) {
  if (!audit_) return;
  AuditEvent e;
  e.at = clock_.NowMs();
  e.actor_oid = context.actor_oid;
  e.actor_upn = who;
  e.address = context.address;
  e.action = std::move(action);
  e.request_id = request_id;
  e.detail = TruncateUtf8(detail, 600);
  if (Status s = audit_->AppendAudit(e); !s.ok()) {
    LogError("audit event lost", {{"action", e.action}, {"error", s.message()}});
  }
}

// A pending request whose approval time has run out (the sweep may not have seen it yet).
static Status ExpiredStatus(const StoredRequest& r, int64_t now) {
  if (r.state == RequestState::kPendingApproval && r.expires_at <= now) {
    return Status::FailedPrecondition("request " + r.id + " has expired");
  }
  return Status::Ok();
}

Result<StoredRequest> ApprovalService::Approve(const std::string& id, Approval approval,
                                               const DecisionContext& context) {
  if (std::optional<FieldError> e =
          CheckText("comment", approval.comment, 0, kMaxApprovalComment)) {
    return Status::InvalidArgument("the " + e->field + " " + e->message);
  }
  Result<StoredRequest> request = store_.GetWithHash(id);
  if (!request.ok()) return request.status();
  // Anyone who knows a serial can submit a hash that does not decode; under enforce such a
  // request is not for self-service, whose approver becomes the device's user.
  if (!context.approver && request->verification == "unverifiable" &&
      config_.hash_verification_mode() == HashVerificationMode::kEnforce) {
    Record(context, approval.approver, "approve_denied", request->id, "hash not verifiable");
    return Status::PermissionDenied(
        "its hardware hash could not be verified, so only the helpdesk (an approver) may "
        "approve it");
  }
  if (request->state != RequestState::kPendingApproval) {
    return Status::FailedPrecondition("request " + request->id + " is " +
                                      std::string(RequestStateName(request->state)) +
                                      ", not pending approval");
  }
  if (Status expired = ExpiredStatus(*request, clock_.NowMs()); !expired.ok()) return expired;
  DeviceSubmission device{request->serial_number, request->manufacturer, request->model,
                          request->hardware_hash, request->product_key,  request->client_version};
  Result<std::string> blob = Base64Decode(request->hardware_hash);
  Result<HardwareHashInfo> decoded =
      blob.ok() ? DecodeHardwareHash(*blob) : Result<HardwareHashInfo>(blob.status());
  // Only the allow-list is re-checked: the hash was verified (or accepted) at submission.
  VerificationOutcome v =
      VerifyDevice(device, decoded, HashVerificationMode::kOff, config_.allow_list());
  if (v.refused) {
    RequestState from[] = {RequestState::kPendingApproval};
    Result<StoredRequest> r =
        store_.Transition(request->id, from, RequestState::kNotAllowed,
                          std::string(RequestStateStep(RequestState::kNotAllowed)),
                          RequestError{0, v.refusal_code, v.refusal_message}, clock_.NowMs());
    LogWarn("approval refused by the allow-list",
            {{"request", request->id}, {"reason", v.refusal_code}, {"by", approval.approver}});
    if (!r.ok()) return r.status();
    Record(context, approval.approver, "approve_refused", request->id, v.refusal_message);
    return Status::PermissionDenied(v.refusal_message);
  }
  Result<StoredRequest> approved = store_.Approve(request->id, approval, clock_.NowMs());
  if (!approved.ok()) return approved.status();
  Record(context, approval.approver, "approve", approved->id,
         "group tag \"" + approval.group_tag + "\"" +
             (approval.device_name.empty() ? "" : ", name " + approval.device_name) +
             (approval.assigned_user.empty() ? "" : ", user " + approval.assigned_user) +
             (approval.comment.empty() ? "" : ", comment: " + approval.comment));
  LogInfo("request approved", {{"request", approved->id},
                               {"serial", approved->serial_number},
                               {"by", approval.approver},
                               {"group_tag", approval.group_tag}});
  return approved;
}

Result<StoredRequest> ApprovalService::Reject(const std::string& id, std::string reason,
                                              const std::string& who,
                                              const DecisionContext& context) {
  if (std::optional<FieldError> e = CheckText("reason", reason, 0, kMaxRejectReason)) {
    return Status::InvalidArgument("the " + e->field + " " + e->message);
  }
  Result<StoredRequest> request = store_.Get(id);
  if (!request.ok()) return request.status();
  if (Status expired = ExpiredStatus(*request, clock_.NowMs()); !expired.ok()) return expired;
  RequestState from[] = {RequestState::kPendingApproval};
  Result<StoredRequest> r = store_.Transition(
      id, from, RequestState::kRejected, std::string(RequestStateStep(RequestState::kRejected)),
      RequestError{0, "Rejected", reason}, clock_.NowMs());
  if (r.ok()) {
    LogInfo("request rejected", {{"request", r->id}, {"by", who}});
    Record(context, who, "reject", r->id, reason);
  }
  return r;
}

}  // namespace apm
