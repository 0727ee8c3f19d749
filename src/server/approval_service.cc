#include "server/approval_service.h"

#include "core/base64.h"
#include "core/hardware_hash.h"
#include "core/text.h"
#include "core/validation.h"
#include "server/audit_trail.h"
#include "server/importer/registration_check.h"
#include "server/logging.h"

namespace apm {

void ApplyRequestDefaults(const StoredRequest& r, bool group_tag_given, Approval* a) {
  if (!group_tag_given && !r.proposed_group_tag.empty()) {
    a->group_tag = r.proposed_group_tag;
    group_tag_given = true;
  }
  if (a->assigned_user.empty()) a->assigned_user = r.proposed_user;  // an upload's column
  const RegistrationCheck check = ParseRegistrationCheck(r.registration);
  if (a->action == ApprovalAction::kImport || check.found.size() != 1) return;
  const AutopilotDevice& old = check.found.front().device;
  if (!group_tag_given) a->group_tag = old.group_tag;
  if (a->assigned_user.empty()) a->assigned_user = old.user_principal_name;
}

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
  e.detail = std::move(detail);
  RecordAudit(*audit_, std::move(e));
}

// How the audit names an action: "" for a plain import; a re-registration names the record it
// replaces and the purchase order id that cannot be carried over.
static std::string ActionWords(const Approval& approval, const RegistrationCheck& check) {
  if (approval.action == ApprovalAction::kImport) return "";
  std::string words = std::string(ApprovalActionName(approval.action)) + " of registration " +
                      approval.registration_id + ", ";
  if (approval.action == ApprovalAction::kReRegister && !check.found.empty() &&
      !check.found.front().device.purchase_order_id.empty()) {
    words += "purchase order id " + check.found.front().device.purchase_order_id +
             " not carried over (Graph cannot set it), ";
  }
  return words;
}

// A pending request whose approval time has run out (the sweep may not have seen it yet).
static Status ExpiredStatus(const StoredRequest& r, int64_t now) {
  if (r.state == RequestState::kPendingApproval && r.expires_at <= now) {
    return Status::FailedPrecondition("request " + r.id + " has expired");
  }
  return Status::Ok();
}

// Whether `approval`'s action fits what the tenant holds for the serial (and who decides); fills
// in the registration the action is about.
Status ApprovalService::CheckAction(const StoredRequest& request, const RegistrationCheck& check,
                                    Approval& approval, const DecisionContext& context) const {
  // A corporate identifier request is approved as just that: no hash, nothing to replace.
  if (request.requested_action ==
      ApprovalActionName(ApprovalAction::kRegisterCorporateIdentifier)) {
    if (approval.action != ApprovalAction::kImport &&
        approval.action != ApprovalAction::kRegisterCorporateIdentifier) {
      return Status::FailedPrecondition(
          "the device asks to be registered by its corporate identifier: approve that, or "
          "reject it");
    }
    approval.action = ApprovalAction::kRegisterCorporateIdentifier;
    return Status::Ok();
  }
  // A request that asks for its Intune record to be removed is approved as just that.
  if (request.requested_action == ApprovalActionName(ApprovalAction::kRemoveManagedDevice)) {
    if (approval.action == ApprovalAction::kImport) {
      approval.action = ApprovalAction::kRemoveManagedDevice;
    }
    if (approval.action != ApprovalAction::kRemoveManagedDevice) {
      return Status::FailedPrecondition(
          "the device asks for its Intune record to be removed: approve that, or reject it");
    }
  }
  const ApprovalAction action = approval.action;
  if (action == ApprovalAction::kImport) {
    if (check.found.empty()) return Status::Ok();
    if (!context.approver && !config_.AllowSelfServiceReRegister) {
      return Status::PermissionDenied(
          "this device is already registered in Autopilot. If it was repaired (a new "
          "motherboard), the helpdesk must re-register it; after a reset it needs nothing");
    }
    return Status::FailedPrecondition(
        "the serial number " + request.serial_number +
        " is already registered: choose Re-register or Update only (an import would fail "
        "with 806)");
  }
  if (action == ApprovalAction::kRemoveManagedDevice && !config_.AllowDeletionInApprovalMode) {
    return Status::PermissionDenied(
        "removing Intune records is not allowed (AllowDeletionInApprovalMode)");
  }
  const bool deletes = action != ApprovalAction::kUpdateOnly;
  if (!context.approver &&
      (action != ApprovalAction::kReRegister || !config_.AllowSelfServiceReRegister)) {
    return Status::PermissionDenied("only the helpdesk (an approver) may " +
                                    std::string(deletes ? "delete or replace" : "change") +
                                    " an existing registration");
  }
  if (check.checked_at == 0) {
    return Status::FailedPrecondition(
        "the existing registration has not been looked up yet; try again in a moment");
  }
  if (check.found.size() != 1) {
    return Status::FailedPrecondition(
        check.found.empty()
            ? "no registration has the serial number " + request.serial_number
            : std::to_string(check.found.size()) + " registrations have the serial number " +
                  request.serial_number + ": remove the ones that are not this device first");
  }
  const std::string& found_id = check.found.front().device.id;
  if (!approval.registration_id.empty() && approval.registration_id != found_id) {
    return Status::FailedPrecondition("the registration shown is not the one found for " +
                                      request.serial_number + "; reload the page");
  }
  approval.registration_id = found_id;
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
  // The customer's validation function has not passed it: only a person of the helpdesk may.
  if (!context.approver && (request->function_validation == "bypassed" ||
                            request->function_validation == "unanswered")) {
    Record(context, approval.approver, "approve_denied", request->id,
           "validation function " + request->function_validation);
    return Status::PermissionDenied(
        request->function_validation == "bypassed"
            ? "the device skipped the validation function (BYPASS), so only the helpdesk (an "
              "approver) may approve it"
            : "the validation function did not answer for this device, so only the helpdesk (an "
              "approver) may approve it");
  }
  if (request->state != RequestState::kPendingApproval) {
    return Status::FailedPrecondition("request " + request->id + " is " +
                                      std::string(RequestStateName(request->state)) +
                                      ", not pending approval");
  }
  if (Status expired = ExpiredStatus(*request, clock_.NowMs()); !expired.ok()) return expired;
  const RegistrationCheck check = ParseRegistrationCheck(request->registration);
  if (Status fits = CheckAction(*request, check, approval, context); !fits.ok()) {
    Record(context, approval.approver, "approve_denied", request->id, fits.message());
    return fits;
  }
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
         ActionWords(approval, check) + "group tag \"" + approval.group_tag + "\"" +
             (approval.device_name.empty() ? "" : ", name " + approval.device_name) +
             (approval.assigned_user.empty() ? "" : ", user " + approval.assigned_user) +
             (approval.comment.empty() ? "" : ", comment: " + approval.comment));
  LogInfo("request approved", {{"request", approved->id},
                               {"serial", approved->serial_number},
                               {"by", approval.approver},
                               {"group_tag", approval.group_tag},
                               {"action", ApprovalActionName(approval.action)}});
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
