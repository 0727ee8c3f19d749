// Whether Autopilot already assigned this device to a tenant: the keys Windows writes when it
// downloads the profile during OOBE.
#include "client/win32_text.h"

#include <optional>
#include <string>
#include <utility>

#include "client/profile_detector.h"
#include "core/text.h"

namespace apm::client {
namespace {

constexpr wchar_t kAutopilotKey[] = L"SOFTWARE\\Microsoft\\Provisioning\\Diagnostics\\Autopilot";
constexpr char kAutopilotKeyName[] =
    "HKLM\\SOFTWARE\\Microsoft\\Provisioning\\Diagnostics\\Autopilot";

class RegistryKey {
 public:
  RegistryKey() = default;
  RegistryKey(const RegistryKey&) = delete;
  RegistryKey& operator=(const RegistryKey&) = delete;
  ~RegistryKey() {
    if (key_) RegCloseKey(key_);
  }
  HKEY get() const { return key_; }
  HKEY* out() { return &key_; }

 private:
  HKEY key_ = nullptr;
};

// A REG_SZ value, trimmed; "" when it does not exist.
Result<std::string> ReadRegistryString(HKEY key, const wchar_t* name) {
  DWORD bytes = 0;
  LSTATUS error = RegGetValueW(key, nullptr, name, RRF_RT_REG_SZ, nullptr, nullptr, &bytes);
  if (error == ERROR_FILE_NOT_FOUND) return std::string();
  std::wstring value;
  // The value may grow between the two calls; ask again with the new size then.
  while (error == ERROR_SUCCESS || error == ERROR_MORE_DATA) {
    value.assign(bytes / sizeof(wchar_t) + 1, L'\0');
    error = RegGetValueW(key, nullptr, name, RRF_RT_REG_SZ, nullptr, value.data(), &bytes);
    if (error == ERROR_SUCCESS) {
      value.resize(bytes / sizeof(wchar_t));
      while (!value.empty() && value.back() == L'\0') value.pop_back();
      return Trim(Narrow(value));
    }
  }
  if (error == ERROR_FILE_NOT_FOUND) return std::string();
  return Status::Unavailable("cannot read " + std::string(kAutopilotKeyName) + "\\" + Narrow(name) +
                             ": " + DescribeWin32Error(error));
}

class RegistryProfileDetector : public ProfileDetector {
 public:
  Result<std::optional<ExistingProfile>> Detect() override {
    RegistryKey key;
    // The 64-bit view: the key lives there whatever the bitness of this process.
    const LSTATUS error =
        RegOpenKeyExW(HKEY_LOCAL_MACHINE, kAutopilotKey, 0, KEY_READ | KEY_WOW64_64KEY, key.out());
    if (error == ERROR_FILE_NOT_FOUND) return std::optional<ExistingProfile>();
    if (error != ERROR_SUCCESS) {
      return Status::Unavailable("cannot open " + std::string(kAutopilotKeyName) + ": " +
                                 DescribeWin32Error(error));
    }
    Result<std::string> tenant_id = ReadRegistryString(key.get(), L"CloudAssignedTenantId");
    if (!tenant_id.ok()) return tenant_id.status();
    if (tenant_id->empty()) return std::optional<ExistingProfile>();
    Result<std::string> tenant_domain = ReadRegistryString(key.get(), L"CloudAssignedTenantDomain");
    if (!tenant_domain.ok()) return tenant_domain.status();
    return std::optional<ExistingProfile>(
        ExistingProfile{std::move(*tenant_id), std::move(*tenant_domain)});
  }
};

}  // namespace

std::unique_ptr<ProfileDetector> NewPlatformProfileDetector() {
  return std::make_unique<RegistryProfileDetector>();
}

}  // namespace apm::client
