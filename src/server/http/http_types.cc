#include "server/http/http_types.h"

namespace apm {

void PeerGone::OnGone(std::function<void()> f) {
  {
    std::lock_guard lock(mu_);
    if (!gone_) {
      on_gone_ = std::move(f);
      return;
    }
  }
  f();
}

void PeerGone::Raise() {
  std::function<void()> f;
  {
    std::lock_guard lock(mu_);
    if (gone_) return;
    gone_ = true;
    f = std::move(on_gone_);
  }
  if (f) f();
}

std::optional<std::string> QueryParam(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name) {
      return std::string(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

}  // namespace apm
