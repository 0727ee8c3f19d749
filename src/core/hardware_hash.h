// Decoder for the Autopilot hardware hash ("4K hash", MDM_DevDetail_Ext01.DeviceHardwareData).
// Layout and caveats: docs/hardware-hash.md. Microsoft calls the blob opaque and may change
// it, so the decoder fails soft: anything it cannot parse is "unverifiable", never a crash.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace apm {

// Record types the decoder reads; all others are skipped.
enum HashRecordType : uint8_t {
  kRecBuildInfo = 1,
  kRecDisk = 7,
  kRecNetworkAdapter = 8,
  kRecSmbiosUuid = 12,
  kRecTpmVersion = 13,
  kRecSerial = 14,
  kRecManufacturer = 16,
  kRecProductName = 17,
  kRecSku = 18,
  kRecFamily = 19,
  kRecTpmEkPublic = 25,
  kRecKernelDiskSerial = 28,
};

// The placeholder Windows writes for a missing SMBIOS string.
inline constexpr std::string_view kSmbiosMissing = "SMBIOS_STRING_INDEX_0";

struct HardwareHashInfo {
  std::string serial;
  std::string manufacturer;
  std::string model;  // SMBIOS product name (record 17)
  std::string sku;
  std::string family;             // record 19; the friendly model name on Lenovo
  std::string smbios_uuid;        // Windows GUID text form
  std::vector<std::string> macs;  // "aa:bb:cc:dd:ee:ff"
  std::vector<std::string> disk_serials;
  bool tpm_present = false;
  std::string tpm_version;
  std::string architecture;  // "x64", "arm64", "x86", "arm" or "unknown"
  size_t used_length = 0;    // bytes covered by the records, header and checksum
  size_t record_count = 0;
};

// Decodes the raw (already base64-decoded) blob. Fails with kInvalidArgument and a reason when
// the blob does not have the documented layout or its checksum is wrong.
Result<HardwareHashInfo> DecodeHardwareHash(std::string_view blob);

// A short, non-reversible fingerprint for logs: the first 12 hex digits of SHA-256 of the text.
std::string HashFingerprint(std::string_view hash_text);

}  // namespace apm
