// Time, sleeping and restarting: the client's effects on the machine itself.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "core/status.h"

namespace apm::client {

class DeviceClock {
 public:
  virtual ~DeviceClock() = default;
  virtual std::chrono::system_clock::time_point Now() = 0;
  virtual std::chrono::steady_clock::time_point Monotonic() = 0;
  virtual void SleepFor(std::chrono::milliseconds duration) = 0;
};

std::unique_ptr<DeviceClock> NewSystemDeviceClock();

class Restarter {
 public:
  virtual ~Restarter() = default;
  virtual Status Restart() = 0;
};

// Windows: InitiateSystemShutdownEx (restart now). POSIX: `systemctl reboot`.
std::unique_ptr<Restarter> NewPlatformRestarter();

// Where the client keeps the id of its request between runs: %ProgramData%\AutopilotManager
// on Windows; $XDG_STATE_HOME/apm-client (or ~/.local/state/apm-client) on POSIX.
std::string DefaultStateDir();

}  // namespace apm::client
