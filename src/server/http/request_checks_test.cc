#include "server/http/request_checks.h"

#include <gtest/gtest.h>

namespace apm {
namespace {

http::fields Fields(std::initializer_list<std::pair<const char*, const char*>> list) {
  http::fields f;
  for (const auto& [name, value] : list) f.insert(name, value);
  return f;
}

// FrontDoorRefusal with the method second, as GET unless a test says otherwise.
std::optional<std::string> Refusal(const http::fields& fields, std::string_view target,
                                   const std::vector<std::string>& ids,
                                   http::verb method = http::verb::get) {
  return FrontDoorRefusal(fields, method, target, ids);
}

constexpr const char* kProfile = "55ce4ed1-4b06-4bf1-b40e-4638452104da";
constexpr const char* kNextProfile = "0b7a1f2e-9c3d-4e5f-8a6b-7c8d9e0f1a2b";

TEST(FrontDoorRefusal, LetsEverythingInWhenNoProfileIsRequired) {
  EXPECT_FALSE(Refusal(Fields({{"Host", "x"}}), "/api/v1/requests", {}));
}

TEST(FrontDoorRefusal, LetsInTheRequiredProfilesOnly) {
  const std::vector<std::string> required = {kProfile, kNextProfile};
  EXPECT_FALSE(Refusal(Fields({{"X-Azure-FDID", kProfile}}), "/", required));
  EXPECT_FALSE(Refusal(Fields({{"x-azure-fdid", kNextProfile}}), "/ap.exe", required));
  EXPECT_FALSE(
      Refusal(Fields({{"X-Azure-FDID", "55CE4ED1-4B06-4BF1-B40E-4638452104DA"}}), "/", required));

  std::optional<std::string> missing = Refusal(Fields({{"Host", "x"}}), "/", required);
  ASSERT_TRUE(missing);
  EXPECT_NE(missing->find("Azure Front Door"), std::string::npos);
  std::optional<std::string> other =
      Refusal(Fields({{"X-Azure-FDID", "11111111-2222-4333-8444-555555555555"}}), "/", required);
  ASSERT_TRUE(other);
  EXPECT_NE(other->find("another"), std::string::npos);
  EXPECT_EQ(other->find(kProfile), std::string::npos) << "never tells the expected id";
  EXPECT_TRUE(Refusal(Fields({{"X-Azure-FDID", ""}}), "/", required));
  // A second line (one the client added, say) is not picked from: refused.
  EXPECT_TRUE(Refusal(Fields({{"X-Azure-FDID", kProfile}, {"X-Azure-FDID", "x"}}), "/", required));
}

TEST(FrontDoorRefusal, HealthChecksPassWithoutIt) {
  const std::vector<std::string> required = {kProfile};
  EXPECT_FALSE(Refusal(Fields({}), "/healthz", required));
  EXPECT_FALSE(Refusal(Fields({}), "/readyz?probe=1", required));
  EXPECT_TRUE(Refusal(Fields({}), "/healthz/../api/v1/requests", required));
  EXPECT_TRUE(Refusal(Fields({}), "/metrics", required));
  EXPECT_FALSE(Refusal(Fields({}), "/healthz", required, http::verb::head));
  // Only a probe's methods: a POST's body is not read without the header.
  EXPECT_TRUE(Refusal(Fields({}), "/healthz", required, http::verb::post));
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
