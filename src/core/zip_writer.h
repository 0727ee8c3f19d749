// A zip archive of a few small files, stored without compression (APPNOTE.TXT 6.3.10), for the
// client's diagnostics bundle: text of a few kilobytes, opened on the helpdesk's Windows by
// Explorer. Hand-written (about 100 lines) rather than a zlib or minizip dependency in the
// static ap.exe; what it leaves out — compression, zip64, encryption — the bundle never needs.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace apm {

struct ZipEntry {
  std::string name;  // a relative path with '/' separators, UTF-8
  std::string bytes;
};

// What is wrong with `name` as a file's name in an archive ("" when nothing): empty, absolute,
// "..", "." or an empty part, a backslash or colon, a control character, over 65,535 bytes.
std::string_view ZipNameProblem(std::string_view name);

// CRC-32 (ISO-HDLC, the zip and PNG one) of `bytes`.
uint32_t Crc32(std::string_view bytes);

// The archive of `entries`, each dated `modified` (UTC; zip keeps two-second steps from 1980).
// An error names the entry whose name is empty, absolute, has "..", "." or an empty part, a
// control character, more than 65,535 bytes, or repeats another, or
// when the archive would pass 4 GiB or 65,535 entries.
Result<std::string> ZipStored(const std::vector<ZipEntry>& entries,
                              std::chrono::system_clock::time_point modified);

}  // namespace apm
