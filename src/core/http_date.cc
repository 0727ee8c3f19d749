#include "core/http_date.h"

#include <array>
#include <cstdio>
#include <string>

#include "core/text.h"

namespace apm {

using std::chrono::seconds;
using std::chrono::system_clock;

namespace {
constexpr std::array<const char*, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
}  // namespace

std::string FormatHttpDate(int64_t unix_seconds) {
  static constexpr std::array<const char*, 7> kDays = {"Sun", "Mon", "Tue", "Wed",
                                                       "Thu", "Fri", "Sat"};
  using namespace std::chrono;
  const sys_seconds t{seconds(unix_seconds)};
  const sys_days day = floor<days>(t);
  const year_month_day ymd(day);
  const hh_mm_ss<seconds> time(t - day);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s, %02u %s %04d %02d:%02d:%02d GMT",
                kDays[weekday(day).c_encoding()], unsigned(ymd.day()),
                kMonths[unsigned(ymd.month()) - 1], int(ymd.year()), int(time.hours().count()),
                int(time.minutes().count()), int(time.seconds().count()));
  return buf;
}

std::optional<system_clock::time_point> ParseHttpDate(std::string_view text) {
  // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
  std::string t = Trim(text);
  if (t.size() != 29 || t[3] != ',' || t.substr(26) != "GMT") return std::nullopt;
  auto number = [&](size_t at, size_t len) -> int {
    int value = 0;
    for (size_t i = at; i < at + len; ++i) {
      if (t[i] < '0' || t[i] > '9') return -1;
      value = value * 10 + (t[i] - '0');
    }
    return value;
  };
  int day = number(5, 2), year = number(12, 4);
  int hour = number(17, 2), minute = number(20, 2), second = number(23, 2);
  int month = 0;
  for (size_t i = 0; i < kMonths.size(); ++i) {
    if (t.compare(8, 3, kMonths[i]) == 0) month = int(i) + 1;
  }
  // Up to 2200: the clock counts nanoseconds on Linux and ends in 2262 (found by fuzzing: a
  // Date in 4052 overflowed it).
  if (day < 1 || year < 1970 || year > 2200 || month == 0 || hour < 0 || hour > 23 || minute < 0 ||
      minute > 59 || second < 0 || second > 60) {
    return std::nullopt;
  }
  std::chrono::year_month_day date{std::chrono::year(year), std::chrono::month(unsigned(month)),
                                   std::chrono::day(unsigned(day))};
  if (!date.ok()) return std::nullopt;
  return std::chrono::sys_days(date) + std::chrono::hours(hour) + std::chrono::minutes(minute) +
         seconds(second);
}

}  // namespace apm
