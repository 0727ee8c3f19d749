#include "server/http/request_checks.h"

#include <gtest/gtest.h>

namespace apm {
namespace {

http::fields Fields(std::initializer_list<std::pair<const char*, const char*>> list) {
  http::fields f;
  for (const auto& [name, value] : list) f.insert(name, value);
  return f;
}

TEST(FramingError, AcceptsOrdinaryRequests) {
  EXPECT_FALSE(FramingError(Fields({{"Host", "x"}}), 11));
  EXPECT_FALSE(FramingError(Fields({{"Host", "x"}, {"Content-Length", "3"}}), 11));
  EXPECT_FALSE(FramingError(Fields({{"Host", "x"}, {"Transfer-Encoding", "chunked"}}), 11));
  EXPECT_FALSE(FramingError(Fields({{"Host", "x"}, {"Transfer-Encoding", " CHUNKED "}}), 11));
  EXPECT_FALSE(FramingError(Fields({}), 10));  // HTTP/1.0 needs no Host
}

TEST(FramingError, RefusesCodingsWeCannotFrameExactly) {
  for (const char* te :
       {"xchunked", "identity", "gzip, chunked", "chunked, identity", ", chunked, chunked"}) {
    std::optional<std::string> why =
        FramingError(Fields({{"Host", "x"}, {"Transfer-Encoding", te}}), 11);
    ASSERT_TRUE(why) << te;
    EXPECT_NE(why->find("Transfer-Encoding"), std::string::npos);
  }
  // Two lines mean the same as one joined line.
  EXPECT_TRUE(FramingError(
      Fields({{"Host", "x"}, {"Transfer-Encoding", "gzip"}, {"Transfer-Encoding", "chunked"}}),
      11));
  EXPECT_TRUE(FramingError(
      Fields({{"Host", "x"}, {"Transfer-Encoding", "chunked"}, {"Content-Length", "5"}}), 11));
  EXPECT_TRUE(FramingError(Fields({{"Transfer-Encoding", "chunked"}}), 10));
}

TEST(FramingError, NeedsExactlyOneHostInHttp11) {
  EXPECT_EQ(*FramingError(Fields({}), 11), "an HTTP/1.1 request needs a Host header");
  EXPECT_TRUE(FramingError(Fields({{"Host", "a"}, {"Host", "b"}}), 11));
  EXPECT_TRUE(FramingError(Fields({{"Host", "a"}, {"Host", "b"}}), 10));
}

TEST(ListMembers, TrimsAndSkipsEmptyOnes) {
  EXPECT_EQ(ListMembers(" GET,HEAD ,, "), (std::vector<std::string>{"GET", "HEAD"}));
  EXPECT_TRUE(ListMembers("").empty());
}

TEST(JoinedFieldValues, JoinsEveryLineInOrder) {
  http::fields f = Fields(
      {{"X-Forwarded-For", "1.1.1.1"}, {"Other", "z"}, {"x-forwarded-for", "2.2.2.2, 3.3.3.3"}});
  EXPECT_EQ(JoinedFieldValues(f, "X-Forwarded-For"), "1.1.1.1, 2.2.2.2, 3.3.3.3");
  EXPECT_EQ(JoinedFieldValues(f, "Missing"), "");
}

TEST(FieldBytes, CountsNamesValuesAndSeparators) {
  EXPECT_EQ(FieldBytes(Fields({{"Ab", "cde"}})), 2u + 3u + 4u);
  EXPECT_EQ(FieldBytes(Fields({})), 0u);
}

TEST(IfNoneMatch, WeakComparison) {
  EXPECT_TRUE(IfNoneMatchMatches("\"v3\"", "\"v3\""));
  EXPECT_TRUE(IfNoneMatchMatches("W/\"v3\"", "\"v3\""));
  EXPECT_TRUE(IfNoneMatchMatches("\"v1\", W/\"v3\"", "\"v3\""));
  EXPECT_TRUE(IfNoneMatchMatches("*", "\"v3\""));
  EXPECT_FALSE(IfNoneMatchMatches("\"v2\"", "\"v3\""));
  EXPECT_FALSE(IfNoneMatchMatches("", "\"v3\""));
  EXPECT_FALSE(IfNoneMatchMatches("v3", "\"v3\""));
}

}  // namespace
}  // namespace apm
