#include "core/zip_reader.h"

#include <set>
#include <string_view>

#include "core/zip_writer.h"

namespace apm {
namespace {

// Offsets are size_t and every read is checked against the size first: a 32-bit field near
// 4 GiB must not wrap an addition.
uint32_t Get16(std::string_view s, size_t at) {
  return uint8_t(s[at]) | uint32_t(uint8_t(s[at + 1])) << 8;
}
uint32_t Get32(std::string_view s, size_t at) {
  return Get16(s, at) | Get16(s, at + 2) << 16;
}

// Whether `length` bytes from `at` lie within `size`.
bool Within(size_t at, size_t length, size_t size) {
  return at <= size && length <= size - at;
}

}  // namespace

Result<std::vector<StoredZipEntry>> ReadStoredZip(const std::string& zip_text) {
  const std::string_view zip(zip_text);
  if (zip.size() < 22) return Status::InvalidArgument("shorter than an end record");
  const size_t end = zip.size() - 22;
  if (Get32(zip, end) != 0x06054b50u) return Status::InvalidArgument("no end record");
  if (Get16(zip, end + 20) != 0) return Status::InvalidArgument("a comment after the end record");
  const uint32_t count = Get16(zip, end + 10);
  const size_t directory_start = Get32(zip, end + 16);
  if (!Within(directory_start, Get32(zip, end + 12), end) ||
      directory_start + Get32(zip, end + 12) != end) {
    return Status::InvalidArgument("the directory does not end at the end record");
  }
  std::vector<StoredZipEntry> entries;
  std::set<std::string, std::less<>> names;
  size_t at = directory_start;
  size_t next_local = 0;  // the entries lie one after the other from the start, nothing between
  for (uint32_t i = 0; i < count; ++i) {
    if (!Within(at, 46, end) || Get32(zip, at) != 0x02014b50u) {
      return Status::InvalidArgument("directory record " + std::to_string(i));
    }
    if (Get16(zip, at + 10) != 0) return Status::InvalidArgument("not stored");
    if (Get16(zip, at + 8) != 1u << 11) return Status::InvalidArgument("not flagged UTF-8");
    const uint32_t crc = Get32(zip, at + 16), size = Get32(zip, at + 20);
    const size_t name_length = Get16(zip, at + 28), local = Get32(zip, at + 42);
    if (Get16(zip, at + 30) != 0 || Get16(zip, at + 32) != 0) {
      return Status::InvalidArgument("directory record " + std::to_string(i) +
                                     " has an extra field or a comment");
    }
    if (!Within(at + 46, name_length, end)) {
      return Status::InvalidArgument("a name past the directory");
    }
    const std::string name(zip.substr(at + 46, name_length));
    if (Get32(zip, at + 24) != size) {
      return Status::InvalidArgument("\"" + name + "\" is compressed");
    }
    if (local != next_local || !Within(local, 30 + name_length, directory_start) ||
        Get32(zip, local) != 0x04034b50u || Get32(zip, local + 14) != crc ||
        Get16(zip, local + 26) != name_length || Get16(zip, local + 28) != 0 ||
        zip.substr(local + 30, name_length) != name) {
      return Status::InvalidArgument("the local header of \"" + name + "\" disagrees");
    }
    const size_t data = local + 30 + name_length;
    if (!Within(data, size, directory_start) || Get32(zip, local + 18) != size ||
        Get32(zip, local + 22) != size || Crc32(zip.substr(data, size)) != crc) {
      return Status::InvalidArgument("the bytes of \"" + name +
                                     "\" disagree with their sizes or CRC");
    }
    if (std::string_view why = ZipNameProblem(name); !why.empty()) {
      return Status::InvalidArgument("the file name \"" + name + "\" " + std::string(why));
    }
    if (!names.insert(name).second) {
      return Status::InvalidArgument("\"" + name + "\" is there twice");
    }
    entries.push_back({name, zip.substr(data, size), crc, uint16_t(Get16(zip, at + 12)),
                       uint16_t(Get16(zip, at + 14))});
    next_local = data + size;
    at += 46 + name_length;
  }
  if (at != end || next_local != directory_start) {
    return Status::InvalidArgument("bytes that belong to no file");
  }
  return entries;
}

}  // namespace apm
