// Where the device facts come from: WMI on Windows, DMI on POSIX, or files a technician gives.
#pragma once

#include <memory>
#include <string>

#include "core/status.h"

namespace apm::client {

struct DeviceFacts {
  std::string serial_number;
  std::string manufacturer;
  std::string model;
  std::string hardware_hash;  // standard base64, as WMI gives it; empty when unavailable
  std::string source;         // "WMI", "DMI", "device file …", "OA3 report …"
  std::string hash_problem;   // why hardware_hash is empty, in words for the user
};

class HardwareProbe {
 public:
  virtual ~HardwareProbe() = default;
  virtual Result<DeviceFacts> Read() = 0;
};

// Windows: Win32_BIOS, Win32_ComputerSystem (Lenovo: Win32_ComputerSystemProduct.Version) and
// MDM_DevDetail_Ext01.DeviceHardwareData. POSIX: /sys/class/dmi/id; no hash (use a file).
std::unique_ptr<HardwareProbe> NewPlatformHardwareProbe();

// A JSON file {"serialNumber","manufacturer","model","hardwareHash"} for labs and tests.
std::unique_ptr<HardwareProbe> NewDeviceFileProbe(std::string path);

// The hash from an OA3Tool report (<HardwareHash> in OA3.xml, for WinPE where the MDM WMI class
// does not exist); serial, manufacturer and model from `platform`.
std::unique_ptr<HardwareProbe> NewOa3ReportProbe(std::string path,
                                                 std::unique_ptr<HardwareProbe> platform);

// Reads the text of the <HardwareHash> element of an OA3Tool report.
Result<std::string> HashFromOa3Report(const std::string& xml);

}  // namespace apm::client
