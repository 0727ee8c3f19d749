#include "server/auth/roles.h"

#include "core/text.h"

namespace apm::auth {

Roles RolesFor(const std::vector<std::string>& groups, const Config& config) {
  auto member = [&](const std::string& group) {
    if (group.empty()) return false;
    for (const std::string& g : groups) {
      if (EqualsIgnoreCase(g, group)) return true;  // object ids: GUIDs in either case
    }
    return false;
  };
  return {member(config.AuthorizationSecurityGroup), member(config.ApproverSecurityGroup),
          member(config.ViewerSecurityGroup)};
}

}  // namespace apm::auth
