// Splits one fuzzer input into fields, so a target can feed several parameters from it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace apm::fuzz {

// The input's bytes split at each '\n' (an input without one is a single field); missing
// fields are empty.
inline std::vector<std::string> Fields(const uint8_t* data, size_t size, size_t count) {
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> fields;
  while (fields.size() + 1 < count) {
    size_t nl = rest.find('\n');
    if (nl == std::string_view::npos) break;
    fields.emplace_back(rest.substr(0, nl));
    rest.remove_prefix(nl + 1);
  }
  fields.emplace_back(rest);
  fields.resize(count);
  return fields;
}

inline std::string_view Bytes(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace apm::fuzz
