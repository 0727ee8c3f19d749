// nlohmann::json to text without exceptions: bytes that are not UTF-8 (from a request path or a
// client-made hash) become U+FFFD instead of throwing through a handler.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace apm {

// A string member of a JSON object; "" when `j` is not an object, or the member is missing or
// not a string (json::value would throw on another type).
inline std::string StringMember(const nlohmann::json& j, const char* name) {
  if (!j.is_object()) return "";
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

// `j[name]` when `j` is an object holding it, else `fallback`: for answers from other systems,
// whose shape is not trusted (json::value throws when `j` is not an object).
inline nlohmann::json MemberOr(const nlohmann::json& j, const char* name, nlohmann::json fallback) {
  if (!j.is_object()) return fallback;
  auto it = j.find(name);
  return it != j.end() ? *it : fallback;
}

inline std::string JsonText(const nlohmann::json& j, int indent = -1) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}
// The same for objects whose keys keep their order (bodies other systems read by position).
inline std::string JsonText(const nlohmann::ordered_json& j, int indent = -1) {
  return j.dump(indent, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace apm
