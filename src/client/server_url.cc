#include "client/server_url.h"

#include <cctype>

#include "core/text.h"

namespace apm::client {
namespace {

bool StartsWithIgnoreCase(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && EqualsIgnoreCase(text.substr(0, prefix.size()), prefix);
}

bool IsHttps(std::string_view url) {
  return StartsWithIgnoreCase(url, "https://");
}

// scheme://authority, without the path.
std::string Origin(const std::string& url) {
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return url;
  size_t path = url.find('/', scheme_end + 3);
  return path == std::string::npos ? url : url.substr(0, path);
}

}  // namespace

Result<std::string> NormalizeServerUrl(const std::string& text, bool allow_http) {
  std::string url = Trim(text);
  if (url.empty()) return Status::InvalidArgument("the server address is empty");
  for (unsigned char c : url) {
    if (c <= ' ' || c == 0x7f) {
      return Status::InvalidArgument("the server address \"" + url + "\" contains a space");
    }
  }
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) {
    url = "https://" + url;
  } else {
    std::string scheme = url.substr(0, scheme_end);
    if (EqualsIgnoreCase(scheme, "http")) {
      if (!allow_http) {
        return Status::InvalidArgument(
            "the server address uses plain http, which is not safe; use https, or "
            "--allow-http in a lab");
      }
    } else if (!EqualsIgnoreCase(scheme, "https")) {
      return Status::InvalidArgument("the server address must start with https:// (got \"" +
                                     scheme + "://\")");
    }
  }
  size_t host_start = url.find("://") + 3;
  size_t host_end = url.find_first_of("/?#", host_start);
  std::string authority = url.substr(host_start, host_end - host_start);
  if (authority.empty() || authority[0] == ':') {
    return Status::InvalidArgument("the server address \"" + text + "\" has no host name");
  }
  if (authority.find('@') != std::string::npos) {
    return Status::InvalidArgument("the server address must not contain a user name");
  }
  while (url.size() > host_start && url.back() == '/') url.pop_back();
  return url;
}

std::string JoinLocation(const std::string& base, const std::string& location) {
  if (location.find("://") != std::string::npos) return location;
  if (location.rfind("//", 0) == 0) return base.substr(0, base.find(':') + 1) + location;
  if (!location.empty() && location[0] == '/') return Origin(base) + location;
  // Relative to the base's directory.
  std::string dir = base;
  size_t scheme_end = base.find("://");
  size_t last = base.rfind('/');
  if (last != std::string::npos && last > scheme_end + 2) dir = base.substr(0, last);
  return dir + "/" + location;
}

Result<std::string> ResolveServerUrl(HttpClient& http, const std::string& start, bool allow_http) {
  constexpr int kMaxRedirects = 5;
  std::string url = start;
  for (int hop = 0;; ++hop) {
    HttpRequest request;
    request.url = url + (url.find('/', url.find("://") + 3) == std::string::npos ? "/" : "");
    request.headers = {{"Accept", "application/json"}};
    request.timeout = std::chrono::seconds(10);
    Result<HttpResponse> answer = http.Send(request);
    if (!answer.ok()) return answer.status();
    int status = answer->status;
    bool redirect =
        status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
    if (!redirect) {
      if (status >= 500) {
        return Status::Unavailable("the server " + url + " answered HTTP " +
                                   std::to_string(status));
      }
      while (!url.empty() && url.back() == '/') url.pop_back();
      return url;
    }
    if (hop == kMaxRedirects) {
      return Status::FailedPrecondition("the server address " + start + " redirects more than " +
                                        std::to_string(kMaxRedirects) + " times");
    }
    std::string location = answer->Header("Location");
    if (location.empty()) {
      return Status::FailedPrecondition(url + " answered a redirect without a Location");
    }
    std::string next = JoinLocation(url, location);
    if (IsHttps(url) && !IsHttps(next) && !allow_http) {
      return Status::FailedPrecondition("the server address " + url + " redirects to plain http (" +
                                        next + "), which is not safe; use --allow-http in a lab");
    }
    Result<std::string> normalized = NormalizeServerUrl(next, allow_http);
    if (!normalized.ok()) return normalized.status();
    url = *normalized;
  }
}

}  // namespace apm::client
