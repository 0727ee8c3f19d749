// HTTP Date headers (IMF-fixdate, RFC 9110 §5.6.7), read by the client's clock check and the
// server's doctor.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace apm {

// The time an IMF-fixdate names ("Sun, 06 Nov 1994 08:49:37 GMT"); nullopt for anything else,
// and for years the system clock cannot hold (after 2200).
std::optional<std::chrono::system_clock::time_point> ParseHttpDate(std::string_view text);
// The IMF-fixdate of a time in seconds since the epoch (the server's Date header).
std::string FormatHttpDate(int64_t unix_seconds);

}  // namespace apm
