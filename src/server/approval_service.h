// Decisions on pending requests. Approval re-checks the device against today's allow-list (it
// may have changed since the device submitted) and hands the request to the import engine.
#pragma once

#include <string>
#include <vector>

#include "server/clock.h"
#include "server/config.h"
#include "server/importer/registration_check.h"
#include "server/store/request_store.h"
#include "server/store/session_store.h"

namespace apm {

// One entry of ApprovalModeGroupTags: "Kiosk", or "NAME=Label"; a name starting with "none"
// stands for no group tag (value "").
struct GroupTagChoice {
  std::string value;
  std::string label;
};
std::vector<GroupTagChoice> GroupTagChoices(const Config& config);

// What an approval takes from its request when the approver did not choose: the group tag
// function's or the upload's group tag (unless `group_tag_given`), the upload's assigned user,
// and for a repair the old registration's group tag and user.
void ApplyRequestDefaults(const StoredRequest& r, bool group_tag_given, Approval* a);

// Who decides, beyond the approver's name (for the audit trail).
struct DecisionContext {
  std::string actor_oid;  // "" for the admin command
  std::string address;    // the browser's address, "" for the admin command
  // An approver (helpdesk) or the admin command, as opposed to a self-service user.
  bool approver = true;
};

inline constexpr size_t kMaxApprovalComment = 500;  // characters
inline constexpr size_t kMaxRejectReason = 200;

class ApprovalService {
 public:
  // Every decision (and refusal) is recorded in `audit` when given.
  ApprovalService(const Config& config, RequestStore& store, const Clock& clock,
                  SessionStore* audit = nullptr);

  // Approves a pending request. A device the allow-list no longer admits becomes not_allowed
  // and the answer is kPermissionDenied; a request that is not pending is kFailedPrecondition.
  // A comment that is not plain text is kInvalidArgument. Under HashVerification = "enforce"
  // a hash that could not be verified needs an approver: self-service gets kPermissionDenied.
  Result<StoredRequest> Approve(const std::string& id, Approval approval,
                                const DecisionContext& context = {});

  // Rejects a pending request with a reason the device's user is shown (plain text, or
  // kInvalidArgument).
  Result<StoredRequest> Reject(const std::string& id, std::string reason, const std::string& who,
                               const DecisionContext& context = {});

 private:
  Status CheckAction(const StoredRequest& request, const RegistrationCheck& check,
                     Approval& approval, const DecisionContext& context) const;

  const Config& config_;
  RequestStore& store_;
  void Record(const DecisionContext& context, const std::string& who, std::string action,
              const std::string& request_id, std::string detail);

  const Clock& clock_;
  SessionStore* audit_;
};

}  // namespace apm
