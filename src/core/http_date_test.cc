#include "core/http_date.h"

#include <gtest/gtest.h>

namespace apm {
namespace {

using std::chrono::duration_cast;
using std::chrono::seconds;
using std::chrono::system_clock;

TEST(HttpDateTest, ParsesImfFixdate) {
  std::optional<system_clock::time_point> t = ParseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(duration_cast<seconds>(t->time_since_epoch()).count(), 784111777);
  EXPECT_FALSE(ParseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT").has_value());
  EXPECT_FALSE(ParseHttpDate("Sun, 31 Feb 1994 08:49:37 GMT").has_value());
  // Found by tests/fuzz/client_parsers: a year the clock cannot hold overflowed it.
  EXPECT_FALSE(ParseHttpDate("Sun, 29 Nov 4052 16:27:40 GMT").has_value());
  EXPECT_TRUE(ParseHttpDate("Sat, 29 Nov 2200 16:27:40 GMT").has_value());
  EXPECT_FALSE(ParseHttpDate("").has_value());
}

TEST(HttpDateTest, FormatsWhatItParses) {
  EXPECT_EQ(FormatHttpDate(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(FormatHttpDate(0), "Thu, 01 Jan 1970 00:00:00 GMT");
  for (int64_t t : {int64_t(951782400), int64_t(1'796'040'000), int64_t(4'102'444'799)}) {
    std::optional<system_clock::time_point> back = ParseHttpDate(FormatHttpDate(t));
    ASSERT_TRUE(back.has_value()) << FormatHttpDate(t);
    EXPECT_EQ(duration_cast<seconds>(back->time_since_epoch()).count(), t);
  }
}

}  // namespace
}  // namespace apm
