// What the client and the server agree on about a helpdesk diagnostics bundle
// (docs/client.md#diagnostics): how large it may be, how many one request keeps, what it may be
// called, and how to tell whether a text holds any part of a hardware hash.
#pragma once

#include <cstddef>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_set>

namespace apm {

// The largest bundle the client writes and the server accepts.
inline constexpr size_t kMaxDiagnosticsBytes = 8 * 1024 * 1024;
// Bundles one request keeps: a device sends one per red screen, and a retry may fail again.
inline constexpr int kMaxDiagnosticsPerRequest = 5;

// "ap-diagnostics-PF3ABCDE-20261130-153012.zip": letters, digits, '-', '_' and '.', at most
// 100 characters, ending in ".zip", not starting with '.'.
bool ValidDiagnosticsFileName(std::string_view name);

// Finds any part of a hardware hash in a text: 16 characters of it as base64 (as submitted),
// 16 of its raw bytes, or 16 characters of its bytes in hex (a registry dump's form); and, in the
// forms Windows' own tools write, 32 bytes of it as a .reg file's hex ("01,a2,…") or as
// UTF-16LE text of any of the three (the longer run: such text is mostly hex digits and NULs).
// Not looked for, as any file may hold them: runs of one or two characters (padding: sixteen zero
// bytes, "AAAA…", "0000…"), and raw runs that are plain text (the SMBIOS strings in the hash,
// such as the SKU, which the bundle names on purpose). An empty or short hash finds nothing.
class HashSpotter {
 public:
  explicit HashSpotter(const std::string& hash_base64);
  HashSpotter(const HashSpotter&) = delete;  // its runs are views into its own strings
  HashSpotter& operator=(const HashSpotter&) = delete;
  bool Holds(std::string_view text) const;

 private:
  static constexpr size_t kRun = 16;
  static constexpr size_t kLongRun = 32;
  static constexpr size_t kTellingCharacters = 3;
  static bool Telling(std::string_view run);
  static bool Printable(std::string_view run);
  struct Runs {
    size_t length;
    std::unordered_set<std::string_view> views;  // into kept_
  };
  // Keeps every telling run of `text` in `into` (raw: only runs that are not text).
  void Add(std::string text, Runs& into, bool raw = false);
  std::deque<std::string> kept_;
  Runs runs_{kRun, {}};
  Runs long_runs_{kLongRun, {}};
};

}  // namespace apm
