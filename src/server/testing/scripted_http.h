// An OutboundHttp for tests that answers each call with the next status of a script (then a
// default), optionally with a Retry-After, and keeps every call it was sent.
#pragma once

#include <deque>
#include <string>
#include <vector>

#include "server/http/outbound_http.h"

namespace apm::testing {

class ScriptedHttp : public OutboundHttp {
 public:
  explicit ScriptedHttp(int otherwise = 204) : otherwise_(otherwise) {}
  Result<OutboundResponse> Send(const OutboundRequest& request, SendReport*) override {
    calls.push_back(request);
    OutboundResponse r;
    r.status = otherwise_;
    if (!statuses.empty()) {
      r.status = statuses.front();
      statuses.pop_front();
    }
    if (!retry_after.empty()) r.headers["retry-after"] = retry_after;
    return r;
  }
  // Call `i`'s header `name`, "" when it had none.
  std::string Header(size_t i, const std::string& name) const {
    for (const auto& [k, v] : calls.at(i).headers) {
      if (k == name) return v;
    }
    return "";
  }

  std::deque<int> statuses;
  std::string retry_after;
  std::vector<OutboundRequest> calls;

 private:
  int otherwise_;
};

}  // namespace apm::testing
