#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <thread>

#include "client/system.h"

namespace apm::client {
namespace {

class SystemdRestarter : public Restarter {
 public:
  Status Restart() override {
    int rc = std::system("systemctl reboot");
    if (rc != 0)
      return Status::Unavailable("systemctl reboot failed (exit " +
                                 std::to_string(WEXITSTATUS(rc)) + ")");
    return Status::Ok();
  }
};

}  // namespace

std::unique_ptr<Restarter> NewPlatformRestarter() {
  return std::make_unique<SystemdRestarter>();
}

std::string DefaultStateDir() {
  if (const char* state = std::getenv("XDG_STATE_HOME"); state && *state) {
    return std::string(state) + "/apm-client";
  }
  if (const char* home = std::getenv("HOME"); home && *home) {
    return std::string(home) + "/.local/state/apm-client";
  }
  return "/tmp/apm-client-" + std::to_string(getuid());
}

}  // namespace apm::client
