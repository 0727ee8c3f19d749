#include "client/diagnostics.h"
#include "client/file_io.h"

namespace apm::client {
namespace {

class PosixSystemReport : public SystemReport {
 public:
  std::vector<ZipEntry> Collect() override {
    std::string dmi;
    // Readable without root (product_serial is not, and the summary has the serial anyway).
    for (const char* name :
         {"sys_vendor", "product_name", "product_version", "product_family", "board_vendor",
          "board_name", "bios_vendor", "bios_version", "bios_date"}) {
      Result<std::string> value = ReadWholeFile(std::string("/sys/class/dmi/id/") + name);
      dmi +=
          std::string(name) + "=" + (value.ok() ? *value : "(" + value.status().message() + ")\n");
    }
    Result<std::string> os = ReadWholeFile("/etc/os-release");
    return {{"system/dmi.txt", dmi},
            {"system/os-release.txt", os.ok() ? *os : os.status().message() + "\n"}};
  }
};

}  // namespace

std::unique_ptr<SystemReport> NewPlatformSystemReport() {
  return std::make_unique<PosixSystemReport>();
}

}  // namespace apm::client
