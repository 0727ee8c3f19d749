// Decisions on pending requests. Approval re-checks the device against today's allow-list (it
// may have changed since the device submitted) and hands the request to the import engine.
#pragma once

#include <string>
#include <vector>

#include "server/clock.h"
#include "server/config.h"
#include "server/store/request_store.h"

namespace apm {

// One entry of ApprovalModeGroupTags: "Kiosk", or "NAME=Label"; a name starting with "none"
// stands for no group tag (value "").
struct GroupTagChoice {
  std::string value;
  std::string label;
};
std::vector<GroupTagChoice> GroupTagChoices(const Config& config);

class ApprovalService {
 public:
  ApprovalService(const Config& config, RequestStore& store, const Clock& clock);

  // Approves a pending request. A device the allow-list no longer admits becomes not_allowed
  // and the answer is kPermissionDenied; a request that is not pending is kFailedPrecondition.
  Result<StoredRequest> Approve(const std::string& id, const Approval& approval);

  // Rejects a pending request with a reason the device's user is shown.
  Result<StoredRequest> Reject(const std::string& id, const std::string& reason,
                               const std::string& who);

 private:
  const Config& config_;
  RequestStore& store_;
  const Clock& clock_;
};

}  // namespace apm
