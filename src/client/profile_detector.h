// Whether this device already has an Autopilot profile (then there is nothing to register).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "core/status.h"

namespace apm::client {

struct ExistingProfile {
  std::string tenant_id;
  std::string tenant_domain;
};

class ProfileDetector {
 public:
  virtual ~ProfileDetector() = default;
  // The profile found, nullopt when there is none.
  virtual Result<std::optional<ExistingProfile>> Detect() = 0;
};

// Windows: HKLM\SOFTWARE\Microsoft\Provisioning\Diagnostics\Autopilot CloudAssignedTenantId and
// CloudAssignedTenantDomain (64-bit view). POSIX: there is no such thing; never a profile.
std::unique_ptr<ProfileDetector> NewPlatformProfileDetector();

}  // namespace apm::client
