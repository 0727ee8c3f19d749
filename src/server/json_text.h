// nlohmann::json to text without exceptions: bytes that are not UTF-8 (from a request path or a
// client-made hash) become U+FFFD instead of throwing through a handler.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace apm {

inline std::string JsonText(const nlohmann::json& j, int indent = -1) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace apm
