#include "server/graph/graph_error.h"

#include <gtest/gtest.h>

namespace apm {
namespace {

TEST(GraphError, ParsesStandardShape) {
  GraphError e = ParseGraphError(
      404,
      R"({"error":{"code":"Request_ResourceNotFound","message":"Resource 'x' does not exist.",)"
      R"("innerError":{"date":"2026-11-27T08:00:00","request-id":"r-1","client-request-id":"c-1"}}})",
      std::nullopt);
  EXPECT_EQ(e.code, "Request_ResourceNotFound");
  EXPECT_EQ(e.message, "Resource 'x' does not exist.");
  EXPECT_EQ(e.request_id, "r-1");
  EXPECT_FALSE(IsRetryable(e));
  Status s = ToStatus(e);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_NE(s.message().find("Request_ResourceNotFound"), std::string::npos);
  EXPECT_NE(s.message().find("r-1"), std::string::npos);
}

TEST(GraphError, UnwrapsIntuneNestedError) {
  std::string body =
      R"({"error":{"code":"BadRequest","message":"{\r\n  \"_version\": 3,\r\n  \"Message\": )"
      R"(\"An error has occurred - Operation ID (for customer support): 0000 - Activity ID: a1\",)"
      R"(\r\n  \"CustomApiErrorPhrase\": \"\",\r\n  \"RetryAfter\": null,\r\n  )"
      R"(\"ErrorSourceService\": \"\",\r\n  \"HttpHeaders\": \"{}\"\r\n}",)"
      R"("innerError":{"request-id":"r-2"}}})";
  GraphError e = ParseGraphError(400, body, std::nullopt);
  EXPECT_EQ(e.code, "BadRequest");
  EXPECT_EQ(e.message,
            "An error has occurred - Operation ID (for customer support): 0000 - Activity ID: a1");
  EXPECT_FALSE(e.retry_after_seconds.has_value());
  EXPECT_EQ(ToStatus(e).code(), StatusCode::kInvalidArgument);
}

TEST(GraphError, ThrottlingIsRetryableWithRetryAfter) {
  GraphError e = ParseGraphError(429, R"({"error":{"code":"TooManyRequests","message":"slow"}})",
                                 std::string_view("17"));
  EXPECT_TRUE(IsRetryable(e));
  ASSERT_TRUE(e.retry_after_seconds.has_value());
  EXPECT_EQ(*e.retry_after_seconds, 17);
  EXPECT_EQ(ToStatus(e).code(), StatusCode::kUnavailable);
  EXPECT_FALSE(ParseGraphError(429, "", std::string_view("soon")).retry_after_seconds);
}

TEST(GraphError, NonGraphBodiesKeepStatusAndExcerpt) {
  GraphError e = ParseGraphError(502, "<html>\nBad gateway</html>", std::nullopt);
  EXPECT_EQ(e.code, "HttpError502");
  EXPECT_EQ(e.message, "<html> Bad gateway</html>");
  EXPECT_TRUE(IsRetryable(e));
  GraphError none = ParseGraphError(0, "", std::nullopt);
  EXPECT_EQ(none.code, "NoResponse");
  EXPECT_TRUE(IsRetryable(none));
  EXPECT_EQ(ToStatus(ParseGraphError(403, "{}", std::nullopt)).code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(ToStatus(ParseGraphError(409, "[]", std::nullopt)).code(),
            StatusCode::kFailedPrecondition);
}

TEST(DdsError, KnownAndUnknownCodes) {
  const DdsError* d806 = FindDdsError(806);
  ASSERT_NE(d806, nullptr);
  EXPECT_EQ(d806->name, "ZtdDeviceAlreadyAssigned");
  EXPECT_NE(DescribeDdsError(806, "").find("already registered"), std::string::npos);
  ASSERT_NE(FindDdsError(808), nullptr);
  EXPECT_EQ(FindDdsError(808)->name, "ZtdDeviceAssignedToOtherTenant");
  EXPECT_EQ(FindDdsError(123), nullptr);
  std::string unknown = DescribeDdsError(899, "ZtdSomethingNew");
  EXPECT_NE(unknown.find("899"), std::string::npos);
  EXPECT_NE(unknown.find("ZtdSomethingNew"), std::string::npos);
}

TEST(GraphError, FieldsOfUnexpectedTypesAreIgnoredNotThrown) {
  GraphError e = ParseGraphError(
      502, R"({"error":{"code":42,"message":null,"innerError":{"request-id":7}}})", std::nullopt);
  EXPECT_EQ(e.http_status, 502);
  EXPECT_EQ(e.code, "");
  EXPECT_EQ(e.message, "");
  EXPECT_TRUE(IsRetryable(e));
  GraphError nested = ParseGraphError(
      400, R"({"error":{"code":"BadRequest","message":"{\"Message\":5,\"RetryAfter\":-3}"}})",
      std::nullopt);
  EXPECT_EQ(nested.code, "BadRequest");
  EXPECT_FALSE(nested.retry_after_seconds.has_value());
}

}  // namespace
}  // namespace apm
