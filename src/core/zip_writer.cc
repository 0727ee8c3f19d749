#include "core/zip_writer.h"

#include <array>
#include <set>

namespace apm {
namespace {

constexpr uint32_t kLocalHeader = 0x04034b50;
constexpr uint32_t kCentralHeader = 0x02014b50;
constexpr uint32_t kEndOfCentralDirectory = 0x06054b50;
constexpr uint16_t kVersion = 20;          // 2.0: what a stored entry with a directory needs
constexpr uint16_t kUtf8Names = 1u << 11;  // general purpose flag 11: names are UTF-8

void Put16(std::string* out, uint16_t value) {
  out->push_back(static_cast<char>(value & 0xff));
  out->push_back(static_cast<char>(value >> 8));
}

void Put32(std::string* out, uint32_t value) {
  Put16(out, static_cast<uint16_t>(value & 0xffff));
  Put16(out, static_cast<uint16_t>(value >> 16));
}

struct DosTime {
  uint16_t time;
  uint16_t date;
};

DosTime DosTimeOf(std::chrono::system_clock::time_point when) {
  using namespace std::chrono;
  const sys_days day = floor<days>(when);
  year_month_day date{day};
  hh_mm_ss clock{floor<seconds>(when - day)};
  if (date.year() < year(1980)) {
    date = year(1980) / January / 1;
    clock = hh_mm_ss<seconds>{};
  }
  const unsigned years = static_cast<unsigned>(int(date.year()) - 1980);
  return {static_cast<uint16_t>(clock.hours().count() << 11 | clock.minutes().count() << 5 |
                                clock.seconds().count() / 2),
          static_cast<uint16_t>(std::min(years, 127u) << 9 | unsigned(date.month()) << 5 |
                                unsigned(date.day()))};
}

}  // namespace

std::string_view ZipNameProblem(std::string_view name) {
  if (name.empty()) return "is empty";
  if (name.size() > 0xffff) return "is longer than 65,535 bytes";
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) return "has a control character";
  }
  if (name.front() == '/' || name.find('\\') != std::string_view::npos ||
      name.find(':') != std::string_view::npos) {
    return "is not a relative path with '/'";
  }
  for (size_t start = 0; start <= name.size();) {
    const size_t end = std::min(name.find('/', start), name.size());
    const std::string_view part = name.substr(start, end - start);
    if (part == "..") return "has \"..\"";
    if (part.empty() || part == ".") return "has an empty or \".\" part";
    start = end + 1;
  }
  return "";
}

uint32_t Crc32(std::string_view bytes) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t n = 0; n < 256; ++n) {
      uint32_t c = n;
      for (int k = 0; k < 8; ++k) c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
      t[n] = c;
    }
    return t;
  }();
  uint32_t crc = 0xffffffffu;
  for (unsigned char byte : bytes) crc = table[(crc ^ byte) & 0xff] ^ (crc >> 8);
  return crc ^ 0xffffffffu;
}

Result<std::string> ZipStored(const std::vector<ZipEntry>& entries,
                              std::chrono::system_clock::time_point modified) {
  if (entries.size() > 0xffff) return Status::InvalidArgument("more than 65,535 files to zip");
  const DosTime dos = DosTimeOf(modified);
  std::set<std::string_view> names;
  std::string archive;
  std::string directory;
  for (const ZipEntry& entry : entries) {
    if (std::string_view why = ZipNameProblem(entry.name); !why.empty()) {
      return Status::InvalidArgument("the file name \"" + entry.name + "\" " + std::string(why));
    }
    if (!names.insert(entry.name).second) {
      return Status::InvalidArgument("the file name \"" + entry.name + "\" is there twice");
    }
    const uint64_t offset = archive.size();
    if (offset + entry.bytes.size() + entry.name.size() + 30 > 0xffffffffu) {
      return Status::InvalidArgument("the archive would pass 4 GiB at \"" + entry.name + "\"");
    }
    const uint32_t crc = Crc32(entry.bytes);
    const auto size = static_cast<uint32_t>(entry.bytes.size());
    const auto name_length = static_cast<uint16_t>(entry.name.size());
    // The local header, then the bytes.
    Put32(&archive, kLocalHeader);
    for (uint16_t field : {kVersion, kUtf8Names, uint16_t{0}, dos.time, dos.date}) {
      Put16(&archive, field);
    }
    for (uint32_t field : {crc, size, size}) Put32(&archive, field);
    Put16(&archive, name_length);
    Put16(&archive, 0);  // no extra field
    archive += entry.name;
    archive += entry.bytes;
    // Its central directory record.
    Put32(&directory, kCentralHeader);
    for (uint16_t field : {kVersion, kVersion, kUtf8Names, uint16_t{0}, dos.time, dos.date}) {
      Put16(&directory, field);
    }
    for (uint32_t field : {crc, size, size}) Put32(&directory, field);
    for (uint16_t field : {name_length, uint16_t{0}, uint16_t{0}, uint16_t{0}, uint16_t{0}}) {
      Put16(&directory, field);  // name, extra, comment lengths; disk; internal attributes
    }
    Put32(&directory, 0);  // external attributes
    Put32(&directory, static_cast<uint32_t>(offset));
    directory += entry.name;
  }
  if (archive.size() + directory.size() > 0xffffffffu) {
    return Status::InvalidArgument("the archive would pass 4 GiB");
  }
  const auto count = static_cast<uint16_t>(entries.size());
  const auto directory_offset = static_cast<uint32_t>(archive.size());
  archive += directory;
  Put32(&archive, kEndOfCentralDirectory);
  for (uint16_t field : {uint16_t{0}, uint16_t{0}, count, count}) Put16(&archive, field);
  Put32(&archive, static_cast<uint32_t>(directory.size()));
  Put32(&archive, directory_offset);
  Put16(&archive, 0);  // no comment
  return archive;
}

}  // namespace apm
