#include "core/hardware_hash.h"

#include <algorithm>
#include <cstdio>

#include "core/sha256.h"
#include "core/text.h"

namespace apm {
namespace {

constexpr size_t kHeaderSize = 4;        // "OA" + u16 end offset
constexpr size_t kRecordHeaderSize = 4;  // type u8, zero u8, length u16 (length includes header)
constexpr size_t kTrailerSize = 4 + 32;  // "CS$\0" + SHA-256

uint16_t ReadU16(std::string_view b, size_t at) {
  return uint16_t(uint8_t(b[at]) | (uint8_t(b[at + 1]) << 8));
}

// A NUL-terminated string value; stops at the first NUL (record 4 and others carry padding).
std::string CString(std::string_view value) {
  size_t nul = value.find('\0');
  return std::string(value.substr(0, nul));
}

// The SMBIOS placeholder means "no value": report it as empty.
std::string SmbiosString(std::string_view value) {
  std::string s = Trim(CString(value));
  return s == kSmbiosMissing ? std::string() : s;
}

std::string Mac(std::string_view value) {
  if (value.size() < 10) return {};
  char buf[18];
  const auto* m = reinterpret_cast<const uint8_t*>(value.data() + 4);
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4],
                m[5]);
  return buf;
}

// SMBIOS stores the UUID's first three fields little-endian; Windows prints them swapped.
std::string Uuid(std::string_view value) {
  if (value.size() < 16) return {};
  const auto* u = reinterpret_cast<const uint8_t*>(value.data());
  char buf[37];
  std::snprintf(buf, sizeof buf,
                "%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-%02X%02X%02X%02X%02X%02X", u[3], u[2],
                u[1], u[0], u[5], u[4], u[7], u[6], u[8], u[9], u[10], u[11], u[12], u[13], u[14],
                u[15]);
  return buf;
}

// Record 1 starts with the processor architecture as a u16 (PROCESSOR_ARCHITECTURE_* values).
std::string Architecture(std::string_view value) {
  if (value.size() < 2) return "unknown";
  switch (ReadU16(value, 0)) {
    case 0:
      return "x86";
    case 5:
      return "arm";
    case 9:
      return "x64";
    case 12:
      return "arm64";
    default:
      return "unknown";
  }
}

// Record 7 is "<serial>|<model>|" without a NUL terminator.
std::string DiskSerial(std::string_view value) {
  std::string s = CString(value);
  size_t bar = s.find('|');
  return bar == std::string::npos ? s : s.substr(0, bar);
}

}  // namespace

namespace {

// Takes what a record says into `info`; unknown and uninteresting records are skipped, as the
// format may grow.
void ReadRecord(uint8_t type, std::string_view value, HardwareHashInfo& info) {
  // Where a string record repeats, the first non-empty value wins.
  auto set_once = [](std::string& field, std::string v) {
    if (field.empty()) field = Trim(v);
  };
  switch (type) {
    case kRecBuildInfo:
      info.architecture = Architecture(value);
      break;
    case kRecDisk: {
      std::string s = DiskSerial(value);
      if (!s.empty()) info.disk_serials.push_back(Trim(s));
      break;
    }
    case kRecNetworkAdapter: {
      std::string mac = Mac(value);
      if (!mac.empty()) info.macs.push_back(mac);
      break;
    }
    case kRecSmbiosUuid:
      set_once(info.smbios_uuid, Uuid(value));
      break;
    case kRecTpmVersion:
      info.tpm_present = true;
      set_once(info.tpm_version, CString(value));
      break;
    case kRecTpmEkPublic:
      info.tpm_present = true;
      break;
    case kRecKernelDiskSerial: {
      // The kernel's view of a disk serial; kept when record 7 did not already list it.
      std::string serial = Trim(CString(value));
      if (!serial.empty() && std::find(info.disk_serials.begin(), info.disk_serials.end(),
                                       serial) == info.disk_serials.end()) {
        info.disk_serials.push_back(serial);
      }
      break;
    }
    case kRecSerial:
      set_once(info.serial, SmbiosString(value));
      break;
    case kRecManufacturer:
      set_once(info.manufacturer, SmbiosString(value));
      break;
    case kRecProductName:
      set_once(info.model, SmbiosString(value));
      break;
    case kRecSku:
      set_once(info.sku, SmbiosString(value));
      break;
    case kRecFamily:
      set_once(info.family, SmbiosString(value));
      break;
    default:
      break;  // unknown or uninteresting: skipped, as the format may grow
  }
}

}  // namespace

Result<HardwareHashInfo> DecodeHardwareHash(std::string_view blob) {
  if (blob.size() < kHeaderSize + kTrailerSize) {
    return Status::InvalidArgument("hash is too short (" + std::to_string(blob.size()) + " bytes)");
  }
  if (blob[0] != 'O' || blob[1] != 'A') {
    return Status::InvalidArgument("hash does not start with the OA signature");
  }
  size_t end = ReadU16(blob, 2);
  if (end < kHeaderSize || end + kTrailerSize > blob.size()) {
    return Status::InvalidArgument("hash record area length " + std::to_string(end) +
                                   " does not fit the blob (truncated?)");
  }
  if (blob.substr(end, 4) != std::string_view("CS$\0", 4)) {
    return Status::InvalidArgument("hash checksum marker CS$ is missing");
  }
  Sha256Digest digest = Sha256(blob.substr(0, end));
  if (blob.substr(end + 4, 32) != std::string_view(reinterpret_cast<char*>(digest.data()), 32)) {
    return Status::InvalidArgument("hash checksum does not match (corrupted blob)");
  }

  HardwareHashInfo info;
  info.used_length = end + kTrailerSize;
  info.architecture = "unknown";
  size_t at = kHeaderSize;
  while (at < end) {
    if (at + kRecordHeaderSize > end) {
      return Status::InvalidArgument("hash record header at offset " + std::to_string(at) +
                                     " runs past the record area");
    }
    uint8_t type = uint8_t(blob[at]);
    size_t length = ReadU16(blob, at + 2);
    if (length < kRecordHeaderSize || at + length > end) {
      return Status::InvalidArgument("hash record at offset " + std::to_string(at) +
                                     " has invalid length " + std::to_string(length));
    }
    std::string_view value = blob.substr(at + kRecordHeaderSize, length - kRecordHeaderSize);
    ++info.record_count;
    ReadRecord(type, value, info);
    at += length;
  }
  return info;
}

std::string HashFingerprint(std::string_view hash_text) {
  Sha256Digest d = Sha256(hash_text);
  return ToHex(d.data(), 6);
}

}  // namespace apm
