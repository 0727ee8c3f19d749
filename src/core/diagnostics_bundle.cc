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

HashSpotter::HashSpotter(const std::string& hash_base64) {
  if (hash_base64.size() < kRun) return;
  Add(hash_base64);
  if (Result<std::string> blob = Base64Decode(hash_base64); blob.ok()) {
    Add(ToHex(reinterpret_cast<const uint8_t*>(blob->data()), blob->size()));
    Add(std::move(*blob), /*raw=*/true);
  }
}

bool HashSpotter::Holds(std::string_view text) const {
  for (size_t at = 0; !runs_.empty() && at + kRun <= text.size(); ++at) {
    if (runs_.count(text.substr(at, kRun))) return true;
  }
  return false;
}

void HashSpotter::Add(std::string text, bool raw) {
  kept_.push_back(std::move(text));
  const std::string& held = kept_.back();
  for (size_t at = 0; at + kRun <= held.size(); ++at) {
    const std::string_view run = std::string_view(held).substr(at, kRun);
    if (Telling(run) && (!raw || !Printable(run))) runs_.insert(run);
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
