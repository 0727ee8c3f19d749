#include <fstream>

#include "client/hardware_probe.h"
#include "core/text.h"

namespace apm::client {
namespace {

std::string DmiValue(const std::string& name) {
  std::ifstream in("/sys/class/dmi/id/" + name);
  std::string value;
  std::getline(in, value);
  return Trim(value);
}

// Firmware facts from the kernel's DMI export; Linux has no source for the Autopilot hash.
class DmiHardwareProbe : public HardwareProbe {
 public:
  Result<DeviceFacts> Read() override {
    DeviceFacts facts;
    facts.serial_number = DmiValue("product_serial");
    facts.manufacturer = DmiValue("sys_vendor");
    // Lenovo keeps the friendly model name in the version field, as Windows does.
    facts.model = EqualsIgnoreCase(facts.manufacturer, "LENOVO") ? DmiValue("product_version")
                                                                 : DmiValue("product_name");
    if (facts.manufacturer.empty() && facts.model.empty()) {
      return Status::NotFound(
          "this machine exports no DMI data (/sys/class/dmi/id); use --device-file");
    }
    facts.source = "DMI";
    return facts;
  }
};

}  // namespace

std::unique_ptr<HardwareProbe> NewPlatformHardwareProbe() {
  return std::make_unique<DmiHardwareProbe>();
}

}  // namespace apm::client
