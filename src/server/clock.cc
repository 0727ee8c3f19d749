#include "server/clock.h"

#include <string>

namespace apm {

namespace {

// Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm); gmtime_r and snprintf
// were a visible share of a status poll.
void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = unsigned(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = int64_t(yoe) + era * 400 + (*m <= 2);
}

// Days since 1970-01-01 of a civil date (the inverse of CivilFromDays).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = unsigned(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + int64_t(doe) - 719468;
}

void Digits(char* out, unsigned value, int width) {
  for (int i = width - 1; i >= 0; --i) {
    out[i] = char('0' + value % 10);
    value /= 10;
  }
}

}  // namespace

std::string FormatTimestamp(int64_t ms) {
  int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
  int64_t rem = secs - days * 86400;
  int64_t year;
  unsigned month, day;
  CivilFromDays(days, &year, &month, &day);
  std::string out = "0000-00-00T00:00:00.000Z";
  Digits(&out[0], unsigned(year), 4);
  Digits(&out[5], month, 2);
  Digits(&out[8], day, 2);
  Digits(&out[11], unsigned(rem / 3600), 2);
  Digits(&out[14], unsigned(rem / 60 % 60), 2);
  Digits(&out[17], unsigned(rem % 60), 2);
  Digits(&out[20], unsigned(ms - secs * 1000), 3);
  return out;
}

std::optional<int64_t> ParseTimestamp(std::string_view t) {
  // YYYY-MM-DDTHH:MM:SS, then an optional fraction, then Z or +00:00.
  if (t.size() < 20 || t[4] != '-' || t[7] != '-' || (t[10] != 'T' && t[10] != 't') ||
      t[13] != ':' || t[16] != ':') {
    return std::nullopt;
  }
  auto number = [&](size_t at, size_t len) -> int64_t {
    int64_t v = 0;
    for (size_t i = at; i < at + len; ++i) {
      if (t[i] < '0' || t[i] > '9') return -1;
      v = v * 10 + (t[i] - '0');
    }
    return v;
  };
  const int64_t year = number(0, 4), month = number(5, 2), day = number(8, 2);
  const int64_t hour = number(11, 2), minute = number(14, 2), second = number(17, 2);
  if (year < 1970 || month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 ||
      minute < 0 || minute > 59 || second < 0 || second > 60) {
    return std::nullopt;
  }
  size_t at = 19;
  int64_t ms = 0;
  if (t[at] == '.') {
    size_t digits = 0;
    for (++at; at < t.size() && t[at] >= '0' && t[at] <= '9'; ++at, ++digits) {
      if (digits < 3) ms = ms * 10 + (t[at] - '0');
    }
    if (digits == 0) return std::nullopt;
    for (; digits < 3; ++digits) ms *= 10;
  }
  const std::string_view zone = t.substr(at);
  if (zone != "Z" && zone != "z" && zone != "+00:00") return std::nullopt;
  const int64_t days = DaysFromCivil(year, unsigned(month), unsigned(day));
  unsigned y2m, y2d;
  int64_t y2;
  CivilFromDays(days, &y2, &y2m, &y2d);
  if (y2d != unsigned(day)) return std::nullopt;  // 31 February
  return ((days * 24 + hour) * 60 + minute) * 60'000 + second * 1000 + ms;
}

}  // namespace apm
