#include "tenantsim/graph_query.h"

#include <cctype>

#include "core/text.h"
#include "server/http/route_table.h"

namespace apm::sim {

using json = nlohmann::json;

// %XX only: '+' is literal in a path.
std::optional<std::string> PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out.push_back(s[i]);
      continue;
    }
    if (i + 2 >= s.size() || !std::isxdigit(static_cast<unsigned char>(s[i + 1])) ||
        !std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      return std::nullopt;
    }
    out.push_back(char(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
    i += 2;
  }
  return out;
}

// A string member, "" for a missing or null one; false in *ok for another type.
std::string StringField(const json& j, const char* name, bool* ok) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) return "";
  if (!it->is_string()) {
    *ok = false;
    return "";
  }
  return it->get<std::string>();
}

// contains(field,'value') or field eq 'value'; '' escapes a quote inside the literal.
std::optional<Filter> ParseFilter(std::string_view text) {
  std::string t = Trim(text);
  std::string_view s = t;
  auto skip_ws = [&] {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  };
  auto ident = [&] {
    std::string out;
    while (!s.empty() && (std::isalnum(static_cast<unsigned char>(s.front())) || s.front() == '_' ||
                          s.front() == '/')) {
      out.push_back(s.front());
      s.remove_prefix(1);
    }
    return out;
  };
  auto literal = [&]() -> std::optional<std::string> {
    if (s.empty() || s.front() != '\'') return std::nullopt;
    s.remove_prefix(1);
    std::string out;
    while (!s.empty()) {
      if (s.front() == '\'') {
        if (s.size() > 1 && s[1] == '\'') {
          out.push_back('\'');
          s.remove_prefix(2);
          continue;
        }
        s.remove_prefix(1);
        return out;
      }
      out.push_back(s.front());
      s.remove_prefix(1);
    }
    return std::nullopt;
  };
  Filter f;
  std::string first = ident();
  skip_ws();
  if (EqualsIgnoreCase(first, "contains") && !s.empty() && s.front() == '(') {
    s.remove_prefix(1);
    skip_ws();
    f.contains = true;
    f.field = ident();
    skip_ws();
    if (f.field.empty() || s.empty() || s.front() != ',') return std::nullopt;
    s.remove_prefix(1);
    skip_ws();
    std::optional<std::string> v = literal();
    skip_ws();
    if (!v || s.empty() || s.front() != ')') return std::nullopt;
    s.remove_prefix(1);
    f.value = *v;
  } else {
    f.field = first;
    std::string op = ident();
    skip_ws();
    std::optional<std::string> v = literal();
    if (f.field.empty() || !EqualsIgnoreCase(op, "eq") || !v) return std::nullopt;
    f.value = *v;
  }
  skip_ws();
  if (!s.empty()) return std::nullopt;
  return f;
}

bool FilterMatches(const Filter& f, const json& item) {
  auto it = item.find(f.field);
  if (it == item.end() || !it->is_string()) return false;
  const std::string& v = it->get_ref<const std::string&>();
  if (f.contains) return AsciiLower(v).find(AsciiLower(f.value)) != std::string::npos;
  return EqualsIgnoreCase(v, f.value);
}

// The object id at the end of an @odata.id URL (…/directoryObjects/{id}).
std::optional<std::string> ObjectIdFromUrl(const std::string& url) {
  size_t q = url.find('?');
  std::string_view path = std::string_view(url).substr(0, q);
  std::vector<std::string_view> segs = Segments(path);
  if (segs.size() < 2 || !url.starts_with("http")) return std::nullopt;
  std::string_view kind = segs[segs.size() - 2];
  if (!EqualsIgnoreCase(kind, "directoryObjects") && !EqualsIgnoreCase(kind, "devices") &&
      !EqualsIgnoreCase(kind, "users") && !EqualsIgnoreCase(kind, "groups")) {
    return std::nullopt;
  }
  return std::string(segs.back());
}

}  // namespace apm::sim
