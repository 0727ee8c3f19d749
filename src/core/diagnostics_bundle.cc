#include "core/diagnostics_bundle.h"

#include <algorithm>
#include <bitset>

#include "core/base64.h"
#include "core/sha256.h"
#include "core/status.h"

namespace apm {

bool ValidDiagnosticsFileName(std::string_view name) {
  if (name.size() < 5 || name.size() > 100 || name.front() == '.' || !name.ends_with(".zip")) {
    return false;
  }
  for (char c : name) {
    const bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                       c == '-' || c == '_' || c == '.';
    if (!plain) return false;
  }
  return true;
}

namespace {

// Each byte followed by a NUL: ASCII as UTF-16LE.
std::string Utf16le(std::string_view ascii) {
  std::string out;
  out.reserve(ascii.size() * 2);
  for (char c : ascii) {
    out.push_back(c);
    out.push_back('\0');
  }
  return out;
}

// "01,a2,ff": a .reg file's hex: value.
std::string RegHex(const std::string& hex) {
  std::string out;
  for (size_t at = 0; at + 1 < hex.size(); at += 2) {
    if (at) out.push_back(',');
    out.append(hex, at, 2);
  }
  return out;
}

}  // namespace

HashSpotter::HashSpotter(const std::string& hash_base64) {
  if (hash_base64.size() < kRun) return;
  Add(hash_base64, runs_);
  Add(Utf16le(hash_base64), long_runs_);
  if (Result<std::string> blob = Base64Decode(hash_base64); blob.ok()) {
    const std::string hex = ToHex(reinterpret_cast<const uint8_t*>(blob->data()), blob->size());
    const std::string reg_hex = RegHex(hex);
    Add(Utf16le(hex), long_runs_);
    Add(reg_hex, long_runs_);
    Add(Utf16le(reg_hex), long_runs_);
    Add(hex, runs_);
    Add(std::move(*blob), runs_, /*raw=*/true);
  }
}

bool HashSpotter::Holds(std::string_view text) const {
  const size_t n = runs_.length, long_n = long_runs_.length;
  for (size_t at = 0; !runs_.views.empty() && at + n <= text.size(); ++at) {
    if (runs_.views.count(text.substr(at, n))) return true;
    if (at + long_n <= text.size() && long_runs_.views.count(text.substr(at, long_n))) return true;
  }
  return false;
}

void HashSpotter::Add(std::string text, Runs& into, bool raw) {
  kept_.push_back(std::move(text));
  const std::string& held = kept_.back();
  for (size_t at = 0; at + into.length <= held.size(); ++at) {
    const std::string_view run = std::string_view(held).substr(at, into.length);
    if (Telling(run) && (!raw || !Printable(run))) into.views.insert(run);
  }
}

// The hash's raw bytes hold the device's SMBIOS strings (SKU, family, model) as plain text; the
// bundle shows those on purpose. Raw runs count only where they hold a byte that is not text.
bool HashSpotter::Printable(std::string_view run) {
  return std::all_of(run.begin(), run.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

// A run of padding ("AAAA…", sixteen zero bytes, "0000…", "0100…") may be in any file; only runs
// of at least kTellingCharacters different characters are the hash's own.
bool HashSpotter::Telling(std::string_view run) {
  std::bitset<256> seen;
  for (char c : run) seen.set(static_cast<unsigned char>(c));
  return seen.count() >= kTellingCharacters;
}

}  // namespace apm
