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

}  // namespace apm
