#include "client/win32_text.h"  // <windows.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "client/diagnostics.h"
#include "core/sha256.h"

namespace apm::client {
namespace {

// Where Windows keeps what Autopilot and MDM enrollment did on this device.
constexpr const wchar_t* kKeys[] = {
    L"SOFTWARE\\Microsoft\\Provisioning\\Diagnostics\\Autopilot",
    L"SOFTWARE\\Microsoft\\Provisioning\\AutopilotPolicyCache",
    L"SOFTWARE\\Microsoft\\Enrollments",
};
constexpr int kMaxDepth = 4;
constexpr size_t kMaxValueChars = 1024;  // longer values are cut (the bundle checks for the hash)
constexpr size_t kMaxReportBytes = 1024 * 1024;
constexpr size_t kMaxBinaryBytes = 64;  // binary values: their start is enough to recognise

std::string ValueText(DWORD type, const std::vector<BYTE>& data) {
  if (type == REG_DWORD && data.size() >= 4) {
    DWORD value;
    std::memcpy(&value, data.data(), 4);
    return std::to_string(value);
  }
  if (type == REG_QWORD && data.size() >= 8) {
    unsigned long long value;
    std::memcpy(&value, data.data(), 8);
    return std::to_string(value);
  }
  if (type == REG_SZ || type == REG_EXPAND_SZ || type == REG_MULTI_SZ) {
    std::wstring text(reinterpret_cast<const wchar_t*>(data.data()), data.size() / sizeof(wchar_t));
    while (!text.empty() && text.back() == L'\0') text.pop_back();
    for (wchar_t& c : text) {
      if (c == L'\0') c = L';';  // REG_MULTI_SZ's separators
    }
    return Narrow(text);
  }
  const std::string hex = ToHex(data.data(), std::min(data.size(), kMaxBinaryBytes));
  return "hex:" + hex +
         (data.size() > kMaxBinaryBytes ? "… (" + std::to_string(data.size()) + " bytes)" : "");
}

void DumpKey(HKEY root, const std::wstring& path, int depth, std::string* out) {
  HKEY key = nullptr;
  const LSTATUS opened = RegOpenKeyExW(root, path.c_str(), 0, KEY_READ | KEY_WOW64_64KEY, &key);
  if (opened != ERROR_SUCCESS) {
    *out += "[HKLM\\" + Narrow(path) + "] " +
            (opened == ERROR_FILE_NOT_FOUND ? "not found" : "error " + std::to_string(opened)) +
            "\n\n";
    return;
  }
  *out += "[HKLM\\" + Narrow(path) + "]\n";
  // Buffers as large as the key's longest value name and data (lengths in characters, bytes).
  DWORD values = 0, longest_name = 0, longest_data = 0;
  RegQueryInfoKeyW(key, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, &values,
                   &longest_name, &longest_data, nullptr, nullptr);
  std::vector<wchar_t> name(longest_name + 1);
  std::vector<BYTE> data(longest_data);
  for (DWORD i = 0; i < values; ++i) {
    if (out->size() >= kMaxReportBytes) {
      *out += "… (cut: the report reached " + std::to_string(kMaxReportBytes) + " bytes)\n";
      break;
    }
    DWORD name_length = static_cast<DWORD>(name.size()), type = 0;
    DWORD size = static_cast<DWORD>(data.size());
    if (RegEnumValueW(key, i, name.data(), &name_length, nullptr, &type, data.data(), &size) !=
        ERROR_SUCCESS) {
      continue;  // changed since the key was asked about: the others still count
    }
    std::string text = ValueText(type, std::vector<BYTE>(data.begin(), data.begin() + size));
    if (text.size() > kMaxValueChars) {
      size_t cut = kMaxValueChars;
      while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
      text = text.substr(0, cut) + "… (" + std::to_string(text.size()) + " bytes)";
    }
    *out += Narrow(std::wstring_view(name.data(), name_length)) + " = " + text + "\n";
  }
  *out += "\n";
  for (DWORD i = 0; depth < kMaxDepth && out->size() < kMaxReportBytes; ++i) {
    wchar_t name[256];
    DWORD name_length = 256;
    if (RegEnumKeyExW(key, i, name, &name_length, nullptr, nullptr, nullptr, nullptr) !=
        ERROR_SUCCESS) {
      break;
    }
    DumpKey(root, path + L"\\" + std::wstring(name, name_length), depth + 1, out);
  }
  RegCloseKey(key);
}

class RegistrySystemReport : public SystemReport {
 public:
  std::vector<ZipEntry> Collect() override {
    std::string registry;
    for (const wchar_t* path : kKeys) DumpKey(HKEY_LOCAL_MACHINE, path, 0, &registry);
    std::vector<ZipEntry> files = {{"system/registry.txt", registry}};
    for (ZipEntry& file : CollectMdmDiagnostics()) files.push_back(std::move(file));
    return files;
  }
};

}  // namespace

std::unique_ptr<SystemReport> NewPlatformSystemReport() {
  return std::make_unique<RegistrySystemReport>();
}

}  // namespace apm::client
