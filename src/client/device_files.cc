// Device facts from files a technician provides: a JSON device file, or an OA3Tool report.
#include <nlohmann/json.hpp>

#include "client/file_io.h"
#include "client/hardware_probe.h"
#include "core/text.h"

namespace apm::client {
namespace {

using json = nlohmann::json;

Result<std::string> ReadFile(const std::string& path, const char* what) {
  Result<std::string> text = ReadWholeFile(path);
  if (!text.ok()) {
    return Status(text.status().code(),
                  std::string("the ") + what + ": " + text.status().message());
  }
  return text;
}

class DeviceFileProbe : public HardwareProbe {
 public:
  explicit DeviceFileProbe(std::string path) : path_(std::move(path)) {}

  Result<DeviceFacts> Read() override {
    Result<std::string> text = ReadFile(path_, "device file");
    if (!text.ok()) return text.status();
    json file = json::parse(*text, nullptr, false);
    if (!file.is_object()) {
      return Status::InvalidArgument("the device file " + path_ + " is not a JSON object");
    }
    DeviceFacts facts;
    for (auto [name, field] : {std::pair{"serialNumber", &facts.serial_number},
                               {"manufacturer", &facts.manufacturer},
                               {"model", &facts.model},
                               {"hardwareHash", &facts.hardware_hash}}) {
      auto it = file.find(name);
      if (it == file.end() || it->is_null()) continue;
      if (!it->is_string()) {
        return Status::InvalidArgument("the device file " + path_ + ": \"" + name +
                                       "\" must be a string");
      }
      *field = Trim(it->get<std::string>());
    }
    facts.source = "device file " + path_;
    return facts;
  }

 private:
  std::string path_;
};

class Oa3ReportProbe : public HardwareProbe {
 public:
  Oa3ReportProbe(std::string path, std::unique_ptr<HardwareProbe> platform)
      : path_(std::move(path)), platform_(std::move(platform)) {}

  Result<DeviceFacts> Read() override {
    Result<std::string> text = ReadFile(path_, "OA3Tool report");
    if (!text.ok()) return text.status();
    Result<std::string> hash = HashFromOa3Report(*text);
    if (!hash.ok()) {
      return Status::InvalidArgument("the OA3Tool report " + path_ + ": " +
                                     hash.status().message());
    }
    Result<DeviceFacts> facts = platform_->Read();
    if (!facts.ok()) return facts.status();
    facts->hardware_hash = *hash;
    facts->source += ", hash from OA3 report " + path_;
    return facts;
  }

 private:
  std::string path_;
  std::unique_ptr<HardwareProbe> platform_;
};

}  // namespace

Result<std::string> HashFromOa3Report(const std::string& xml) {
  // OA3Tool writes <HardwareHash>base64</HardwareHash> under <Key>; nothing else is needed, so a
  // tag search is enough (no XML library in the client).
  constexpr std::string_view kOpen = "<HardwareHash>", kClose = "</HardwareHash>";
  size_t open = xml.find(kOpen);
  if (open == std::string::npos) return Status::NotFound("it has no <HardwareHash> element");
  size_t start = open + kOpen.size();
  size_t close = xml.find(kClose, start);
  if (close == std::string::npos) return Status::InvalidArgument("<HardwareHash> is not closed");
  std::string hash;
  for (char c : xml.substr(start, close - start)) {
    if (c != ' ' && c != '\r' && c != '\n' && c != '\t') hash += c;
  }
  if (hash.empty()) return Status::InvalidArgument("<HardwareHash> is empty");
  return hash;
}

std::unique_ptr<HardwareProbe> NewDeviceFileProbe(std::string path) {
  return std::make_unique<DeviceFileProbe>(std::move(path));
}

std::unique_ptr<HardwareProbe> NewOa3ReportProbe(std::string path,
                                                 std::unique_ptr<HardwareProbe> platform) {
  return std::make_unique<Oa3ReportProbe>(std::move(path), std::move(platform));
}

}  // namespace apm::client
