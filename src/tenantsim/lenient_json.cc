#include "tenantsim/lenient_json.h"

#include <cctype>
#include <string>

namespace apm::sim {
namespace {

bool IsKeyStart(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == '$' || c == '@';
}

bool IsKeyChar(char c) {
  return IsKeyStart(c) || std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == '-';
}

}  // namespace

nlohmann::json ParseLenientJson(std::string_view text) {
  nlohmann::json strict = nlohmann::json::parse(text, nullptr, false);
  if (!strict.is_discarded()) return strict;
  // Rewrite into strict JSON: quote bare keys, turn 'x' into "x"; then parse again.
  std::string out;
  out.reserve(text.size() + 16);
  char last = 0;  // last significant character written outside strings
  size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (c == '"' || c == '\'') {
      char quote = c;
      out.push_back('"');
      for (++i; i < text.size() && text[i] != quote; ++i) {
        if (text[i] == '\\' && i + 1 < text.size()) {
          out.push_back(text[i]);
          out.push_back(text[++i]);
        } else if (quote == '\'' && text[i] == '"') {
          out += "\\\"";
        } else {
          out.push_back(text[i]);
        }
      }
      out.push_back('"');
      ++i;
      last = '"';
      continue;
    }
    if (IsKeyStart(c) && (last == '{' || last == ',')) {
      size_t end = i;
      while (end < text.size() && IsKeyChar(text[end])) ++end;
      size_t colon = end;
      while (colon < text.size() && std::isspace(static_cast<unsigned char>(text[colon]))) ++colon;
      if (colon < text.size() && text[colon] == ':') {
        out.push_back('"');
        out.append(text.substr(i, end - i));
        out.push_back('"');
        i = end;
        last = '"';
        continue;
      }
    }
    if (!std::isspace(static_cast<unsigned char>(c))) last = c;
    out.push_back(c);
    ++i;
  }
  return nlohmann::json::parse(out, nullptr, false);
}

}  // namespace apm::sim
