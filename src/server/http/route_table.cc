#include "server/http/route_table.h"

#include "server/http/request_checks.h"

namespace apm {

std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < path.size()) {
    if (path[i] == '/') {
      ++i;
      continue;
    }
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    out.push_back(path.substr(i, j - i));
    i = j;
  }
  return out;
}

bool MatchPattern(std::string_view pattern, const std::vector<std::string_view>& segments,
                  std::vector<std::string>* params) {
  std::vector<std::string_view> wanted = Segments(pattern);
  if (wanted.size() != segments.size()) return false;
  size_t found = params->size();
  for (size_t i = 0; i < wanted.size(); ++i) {
    if (wanted[i].starts_with('{') && wanted[i].ends_with('}')) {
      params->emplace_back(segments[i]);
    } else if (wanted[i] != segments[i]) {
      params->resize(found);
      return false;
    }
  }
  return true;
}

bool MethodListed(std::string_view methods, std::string_view method) {
  for (const std::string& m : ListMembers(methods)) {
    if (m == method) return true;
  }
  return false;
}

}  // namespace apm
