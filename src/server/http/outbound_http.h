// Outbound HTTP, as the server's Graph and sign-in code sees it: one blocking call, errors as
// values. The real implementation is libcurl; tests route calls to an in-process handler.
#pragma once

#include <charconv>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace apm {

struct OutboundRequest {
  std::string method = "GET";
  std::string url;  // absolute
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds timeout{30'000};
  // False for calls that must not be sent twice: they get a fresh connection, where a closed
  // kept-alive one would leave it unknown whether they arrived.
  bool idempotent = true;
  // True for calls counted against a budget (Graph's throttling): the request leaves at most
  // once, never re-sent behind the caller's back, whose retry goes through the budget.
  bool send_once = false;
  // Asked just before the request leaves; false: it is not sent (kNotSent). Graph calls ask
  // whether this instance still holds the engine's lease.
  std::function<bool()> may_send;
};

struct OutboundResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-case
  std::string body;

  // The header's value, or "" when absent.
  std::string Header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

// A Retry-After value in seconds (a non-negative integer; an HTTP date is not read), or nullopt.
inline std::optional<int> ParseRetryAfterSeconds(std::string_view text) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0) return std::nullopt;
  return value;
}

// Why a call got no answer. kNotSent means the request provably never reached the server (no
// connection), so even a non-idempotent call may be repeated; after kLost it may have been
// applied.
enum class TransportFailure { kNotSent, kLost };

// What happened to one call on the wire.
struct SendReport {
  TransportFailure failure = TransportFailure::kLost;  // when Send returned an error
  // How often the request left this process. libcurl re-sends once, unasked, when a reused
  // connection closes before any answer; with `send_once` that is refused and this is 0 or 1.
  int sends = 1;
};

class OutboundHttp {
 public:
  virtual ~OutboundHttp() = default;
  // An answer of any status, or kUnavailable (no connection, reset, lost answer) /
  // kDeadlineExceeded (timeout). `report`, when given, says whether and how often it was sent.
  virtual Result<OutboundResponse> Send(const OutboundRequest& request,
                                        SendReport* report = nullptr) = 0;
};

}  // namespace apm
