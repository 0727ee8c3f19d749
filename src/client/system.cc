#include "client/system.h"

#include <thread>

namespace apm::client {
namespace {

class SystemDeviceClock : public DeviceClock {
 public:
  std::chrono::system_clock::time_point Now() override { return std::chrono::system_clock::now(); }
  std::chrono::steady_clock::time_point Monotonic() override {
    return std::chrono::steady_clock::now();
  }
  void SleepFor(std::chrono::milliseconds duration) override {
    std::this_thread::sleep_for(duration);
  }
};

}  // namespace

std::unique_ptr<DeviceClock> NewSystemDeviceClock() {
  return std::make_unique<SystemDeviceClock>();
}

}  // namespace apm::client
