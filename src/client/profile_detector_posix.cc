#include "client/profile_detector.h"

namespace apm::client {
namespace {

// Autopilot profiles exist only on Windows.
class NoProfileDetector : public ProfileDetector {
 public:
  Result<std::optional<ExistingProfile>> Detect() override {
    return std::optional<ExistingProfile>();
  }
};

}  // namespace

std::unique_ptr<ProfileDetector> NewPlatformProfileDetector() {
  return std::make_unique<NoProfileDetector>();
}

}  // namespace apm::client
