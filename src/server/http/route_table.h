// A handler's routes as one table that both matching and dispatch read. A route is a path
// pattern, the methods it answers and what runs it; the pattern is also the route's label in
// the access log and the metrics. "{id}" in a pattern matches one path segment; segments are
// split as Segments() splits them (empty ones are skipped, so "/healthz/" is "/healthz").
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "server/http/http_types.h"

namespace apm {

// The non-empty segments of a path: "/a//b/" is {"a", "b"}.
std::vector<std::string_view> Segments(std::string_view path);

// Whether `segments` fit `pattern`; the "{...}" segments' values are appended to `params`.
bool MatchPattern(std::string_view pattern, const std::vector<std::string_view>& segments,
                  std::vector<std::string>* params);

// Whether `method` is one of a comma-separated list such as "GET, HEAD".
bool MethodListed(std::string_view methods, std::string_view method);

template <class Target>
class RouteTable {
 public:
  struct Route {
    std::string_view pattern;
    std::string_view methods;  // "GET, HEAD"; also the Allow header of a 405
    Target target;
  };
  struct Match {
    const Route* route = nullptr;     // the path and the method matched
    std::vector<std::string> params;  // the "{...}" values, in order
    std::string_view allow;           // the path matched but not the method: what would
    std::string_view label;           // the pattern of the route that matched the path
  };

  explicit RouteTable(std::vector<Route> routes) : routes_(std::move(routes)) {}

  // The first route whose pattern and method match; else the first whose pattern matches
  // (`allow` and `label` set, `route` null); else nothing.
  Match Find(std::string_view path, std::string_view method) const {
    std::vector<std::string_view> segments = Segments(path);
    Match path_only;
    for (const Route& r : routes_) {
      std::vector<std::string> params;
      if (!MatchPattern(r.pattern, segments, &params)) continue;
      if (MethodListed(r.methods, method)) return Match{&r, std::move(params), {}, r.pattern};
      if (path_only.label.empty()) path_only = Match{nullptr, {}, r.methods, r.pattern};
    }
    return path_only;
  }

  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

}  // namespace apm
