#include "core/testing/zip_reader.h"

#include "core/zip_writer.h"

namespace apm::testing {
namespace {

uint32_t Get16(const std::string& s, size_t at) {
  return uint8_t(s[at]) | uint32_t(uint8_t(s[at + 1])) << 8;
}
uint32_t Get32(const std::string& s, size_t at) {
  return Get16(s, at) | Get16(s, at + 2) << 16;
}

}  // namespace

Result<std::vector<StoredZipEntry>> ReadStoredZip(const std::string& zip) {
  if (zip.size() < 22) return Status::InvalidArgument("shorter than an end record");
  const size_t end = zip.size() - 22;
  if (Get32(zip, end) != 0x06054b50u) return Status::InvalidArgument("no end record");
  const uint32_t count = Get16(zip, end + 10);
  size_t at = Get32(zip, end + 16);
  const size_t directory_start = at;
  if (at + Get32(zip, end + 12) != end) {
    return Status::InvalidArgument("the directory does not end at the end record");
  }
  std::vector<StoredZipEntry> entries;
  for (uint32_t i = 0; i < count; ++i) {
    if (at + 46 > end || Get32(zip, at) != 0x02014b50u) {
      return Status::InvalidArgument("directory record " + std::to_string(i));
    }
    if (Get16(zip, at + 10) != 0) return Status::InvalidArgument("not stored");
    const uint32_t crc = Get32(zip, at + 16), size = Get32(zip, at + 20);
    const uint32_t name_length = Get16(zip, at + 28), local = Get32(zip, at + 42);
    if (at + 46 + name_length > end) return Status::InvalidArgument("a name past the directory");
    const std::string name = zip.substr(at + 46, name_length);
    if (Get16(zip, at + 8) != 1u << 11) return Status::InvalidArgument("not flagged UTF-8");
    if (local + 30 > zip.size() || Get32(zip, local) != 0x04034b50u ||
        Get32(zip, local + 14) != crc || zip.substr(local + 30, Get16(zip, local + 26)) != name) {
      return Status::InvalidArgument("the local header of \"" + name + "\" disagrees");
    }
    const size_t data = local + 30 + Get16(zip, local + 26) + Get16(zip, local + 28);
    if (data + size > directory_start || Get32(zip, local + 18) != size ||
        Crc32(zip.substr(data, size)) != crc) {
      return Status::InvalidArgument("the bytes of \"" + name +
                                     "\" disagree with their sizes or CRC");
    }
    entries.push_back({name, zip.substr(data, size), crc, uint16_t(Get16(zip, at + 12)),
                       uint16_t(Get16(zip, at + 14))});
    at += 46 + name_length + Get16(zip, at + 30) + Get16(zip, at + 32);
  }
  return entries;
}

}  // namespace apm::testing
