// The three roles of the original tool, from a user's group object ids.
#pragma once

#include <string>
#include <vector>

#include "server/config.h"

namespace apm::auth {

struct Roles {
  bool general = false;   // AuthorizationSecurityGroup: self-service approval from the QR link
  bool approver = false;  // ApproverSecurityGroup: list and decide any pending request
  bool viewer = false;    // ViewerSecurityGroup: import history and audit
  bool any() const { return general || approver || viewer; }
};

Roles RolesFor(const std::vector<std::string>& groups, const Config& config);

// Who may approve or reject a request from its page.
inline bool CanDecide(const Roles& roles, const Config& config) {
  return roles.approver || (!config.ApprovalMode && roles.general);
}

}  // namespace apm::auth
