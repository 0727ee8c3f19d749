// IntakeService's part of the decision hooks: what each function's answer does to a new request,
// and the audit trail of every answer.
#include "core/text.h"
#include "core/validation.h"
#include "server/approval_service.h"
#include "server/audit_trail.h"
#include "server/decision_hooks.h"
#include "server/intake_service.h"
#include "server/logging.h"

namespace apm {
namespace {

constexpr size_t kMaxFunctionReason = 200;  // characters of a refusal shown to the device

// The first `max` characters of UTF-8 text.
std::string FirstChars(std::string_view s, size_t max) {
  size_t chars = 0, i = 0;
  for (; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80 && chars++ == max) break;
  }
  return std::string(s.substr(0, i));
}

// What a validation function said besides "false", if it is text a person can be shown.
std::string ReasonShown(const std::string& answer) {
  if (answer.empty() || EqualsIgnoreCase(answer, "false")) return "";
  std::string reason = FirstChars(answer, kMaxFunctionReason);
  if (CheckText("reason", reason, 1, kMaxFunctionReason)) return "";
  return reason;
}

// A function's answer as the audit keeps it: plain text, or a note that it was not.
std::string AnswerForAudit(const std::string& answer) {
  std::string text = FirstChars(answer, kMaxFunctionReason);
  if (text.empty() || !CheckText("answer", text, 1, kMaxFunctionReason)) return text;
  return "(" + std::to_string(answer.size()) + " bytes that are not plain text)";
}

// A proposed group tag Intune takes: plain text of at most 100 characters.
bool UsableGroupTag(std::string& tag) {
  return !CheckText("groupTag", tag, 0, 100).has_value();
}

}  // namespace

void IntakeService::UseDecisionHooks(const DecisionHooks* hooks, ApprovalService* approvals,
                                     SessionStore* audit) {
  hooks_ = hooks;
  approvals_ = approvals;
  audit_ = audit;
}

void IntakeService::Record(std::string_view action, const std::string& request_id,
                           std::string detail, const std::string& actor, const Uploader* uploader) {
  if (!audit_) return;
  AuditEvent e;
  e.at = clock_.NowMs();
  e.actor_upn = actor;
  if (uploader) {
    e.actor_oid = uploader->oid;
    e.address = uploader->address;
  }
  e.action = std::string(action);
  e.request_id = request_id;
  e.detail = std::move(detail);
  RecordAudit(*audit_, std::move(e));
}

bool IntakeService::AskBeforeStoring(StoredRequest& r, HookDevice& device, bool bypass,
                                     std::chrono::steady_clock::time_point deadline,
                                     IntakeResult& out, std::vector<HookNote>& notes) {
  const std::string about = "serial " + r.serial_number + ", ";
  if (hooks_->enabled(DecisionHook::kValidate) && bypass) {
    r.function_validation = "bypassed";
    notes.emplace_back("function_validate", about + "not asked: the client asked to bypass it");
  } else if (hooks_->enabled(DecisionHook::kValidate)) {
    HookAnswer a = hooks_->Call(DecisionHook::kValidate, device, deadline);
    switch (a.kind) {
      case HookAnswer::Kind::kYes:
        r.function_validation = "passed";
        notes.emplace_back("function_validate", about + "answered true");
        break;
      case HookAnswer::Kind::kNo: {
        // Nothing is stored, so the audit names the serial, not a request.
        Record("function_validate", "", about + "refused: " + AnswerForAudit(a.text));
        LogWarn("validation function refused a device",
                {{"serial", r.serial_number}, {"client", r.client_address}});
        const std::string reason = ReasonShown(a.text);
        out.kind = IntakeResult::Kind::kRefused;
        out.refusal_code = "device_not_allowed";
        out.refusal_message = "Device not allowed" + (reason.empty() ? "" : ": " + reason);
        return false;
      }
      case HookAnswer::Kind::kFailed:
        LogWarn("validation function gave no answer",
                {{"serial", r.serial_number}, {"why", a.text}});
        if (hooks_->refuse_on_failure()) {
          Record("function_validate", "", about + a.text + "; device refused");
          out.kind = IntakeResult::Kind::kDecisionUnavailable;
          out.refusal_message =
              "the server cannot check this device right now (its validation function does not "
              "answer); try again in a few minutes";
          return false;
        }
        r.function_validation = "unanswered";
        notes.emplace_back("function_validate", about + a.text + "; waits for an approver");
        break;
    }
  }
  // The group tag function runs for BYPASS too, as in the original.
  if (hooks_->enabled(DecisionHook::kGroupTag)) {
    HookAnswer a = hooks_->Call(DecisionHook::kGroupTag, device, deadline);
    if (a.kind != HookAnswer::Kind::kYes) {
      notes.emplace_back("function_grouptag", about + a.text + "; no tag proposed");
    } else if (!UsableGroupTag(a.text)) {
      notes.emplace_back("function_grouptag", about + "answered a tag Intune cannot take; ignored");
    } else {
      r.proposed_group_tag = a.text;
      if (!a.text.empty()) device.group_tag = a.text;
      notes.emplace_back(
          "function_grouptag",
          about + (a.text.empty() ? "proposed no tag" : "proposed \"" + a.text + "\""));
    }
  }
  return true;
}

std::optional<StoredRequest> IntakeService::AskToApprove(
    const StoredRequest& r, const HookDevice& device,
    std::chrono::steady_clock::time_point deadline) {
  if (!hooks_->enabled(DecisionHook::kAutoApproval) || !approvals_) return std::nullopt;
  if (r.function_validation == "unanswered") {
    Record("function_autoapproval", r.id, "not asked: the validation function did not answer");
    return std::nullopt;
  }
  HookAnswer a = hooks_->Call(DecisionHook::kAutoApproval, device, deadline);
  if (a.kind != HookAnswer::Kind::kYes) {
    Record("function_autoapproval", r.id,
           (a.kind == HookAnswer::Kind::kNo ? "declined: " + AnswerForAudit(a.text) : a.text) +
               "; waits for a person");
    return std::nullopt;
  }
  Record("function_autoapproval", r.id, "answered true");
  Approval approval;
  approval.group_tag = r.proposed_group_tag.empty() ? config_.GroupTag : r.proposed_group_tag;
  approval.approver = "SYSTEM (AutoApproval)";
  // The function decides as a self-service user would, never as the helpdesk: it cannot replace
  // a registration, remove a record or pass a hash that could not be verified.
  Result<StoredRequest> approved =
      approvals_->Approve(r.id, approval, DecisionContext{"", "", /*approver=*/false});
  if (!approved.ok()) {
    LogInfo("auto-approval not applied; the request waits for a person",
            {{"request", r.id}, {"why", approved.status().message()}});
    return std::nullopt;
  }
  return *approved;
}

}  // namespace apm
