#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <thread>

#include "client/system.h"

namespace apm::client {
namespace {

class SystemClock : public Clock {
 public:
  std::chrono::system_clock::time_point Now() override { return std::chrono::system_clock::now(); }
  std::chrono::steady_clock::time_point Monotonic() override {
    return std::chrono::steady_clock::now();
  }
  void SleepFor(std::chrono::milliseconds duration) override {
    std::this_thread::sleep_for(duration);
  }
};

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

std::unique_ptr<Clock> NewSystemClock() {
  return std::make_unique<SystemClock>();
}

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
