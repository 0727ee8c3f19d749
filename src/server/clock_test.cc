#include "server/clock.h"

#include <gtest/gtest.h>

#include <ctime>

namespace apm {
namespace {

// The fast formatter agrees with the C library over a wide range of instants.
TEST(FormatTimestamp, MatchesGmtime) {
  for (int64_t ms = 0; ms < int64_t{4'102'444'800'000}; ms += 7'777'777'777 + 123) {
    time_t secs = time_t(ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char want[64];
    std::snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, int(ms % 1000));
    ASSERT_EQ(FormatTimestamp(ms), want) << ms;
  }
  EXPECT_EQ(FormatTimestamp(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatTimestamp(951782400123), "2000-02-29T00:00:00.123Z");
}

TEST(ParseTimestamp, ReadsWhatGraphWritesAndWhatWeWrite) {
  for (int64_t ms : {int64_t(0), int64_t(951'782'400'123), int64_t(1'796'040'000'000),
                     int64_t(4'102'444'799'999)}) {
    EXPECT_EQ(ParseTimestamp(FormatTimestamp(ms)), ms) << FormatTimestamp(ms);
  }
  EXPECT_EQ(ParseTimestamp("2027-05-29T09:45:00Z"), int64_t(1'811'583'900'000));
  EXPECT_EQ(ParseTimestamp("2027-05-29T09:45:00.1234567Z"), int64_t(1'811'583'900'123));
  EXPECT_EQ(ParseTimestamp("2027-05-29T09:45:00+00:00"), int64_t(1'811'583'900'000));
  for (const char* bad : {"", "2027-05-29", "2027-02-31T00:00:00Z", "2027-05-29T09:45:00",
                          "2027-05-29T09:45:00+02:00", "2027-05-29T24:00:00Z",
                          "2027-05-29T09:45:00.Z", "1969-12-31T23:59:59Z"}) {
    EXPECT_FALSE(ParseTimestamp(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace apm
