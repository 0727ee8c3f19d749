#include "client/server_url.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "client/testing/fakes.h"

namespace apm::client {
namespace {

using testing::Answer;
using testing::FakeHttpClient;
using ::testing::HasSubstr;

TEST(NormalizeServerUrlTest, HttpsIsAssumed) {
  EXPECT_EQ(*NormalizeServerUrl("apm.contoso.com", false), "https://apm.contoso.com");
  EXPECT_EQ(*NormalizeServerUrl(" apm.contoso.com:8443/ ", false), "https://apm.contoso.com:8443");
  EXPECT_EQ(*NormalizeServerUrl("HTTPS://apm.contoso.com/apm//", false),
            "HTTPS://apm.contoso.com/apm");
}

TEST(NormalizeServerUrlTest, PlainHttpOnlyWhenAllowed) {
  Result<std::string> url = NormalizeServerUrl("http://10.0.0.5:8080", false);
  ASSERT_FALSE(url.ok());
  EXPECT_THAT(url.status().message(), HasSubstr("--allow-http"));
  EXPECT_EQ(*NormalizeServerUrl("http://10.0.0.5:8080", true), "http://10.0.0.5:8080");
}

TEST(NormalizeServerUrlTest, RefusesWhatIsNotAServer) {
  EXPECT_THAT(NormalizeServerUrl("ftp://x", true).status().message(), HasSubstr("ftp://"));
  EXPECT_THAT(NormalizeServerUrl("https://", true).status().message(), HasSubstr("no host"));
  EXPECT_THAT(NormalizeServerUrl("a b", true).status().message(), HasSubstr("space"));
  EXPECT_THAT(NormalizeServerUrl("https://u:p@x", true).status().message(), HasSubstr("user name"));
  EXPECT_FALSE(NormalizeServerUrl("", true).ok());
}

TEST(JoinLocationTest, AbsoluteAndRelative) {
  EXPECT_EQ(JoinLocation("https://a/x/y", "https://b/z"), "https://b/z");
  EXPECT_EQ(JoinLocation("https://a:1/x/y", "/z"), "https://a:1/z");
  EXPECT_EQ(JoinLocation("https://a/x/y", "z"), "https://a/x/z");
  EXPECT_EQ(JoinLocation("https://a/x", "//b/c"), "https://b/c");
}

// A chain of `hops` redirects with `code`, ending at https://apm.final.example.
FakeHttpClient::Handler Chain(int hops, int code) {
  return [=](const HttpRequest& request) -> Result<HttpResponse> {
    for (int i = 0; i < hops; ++i) {
      if (request.url.find("/hop" + std::to_string(i)) != std::string::npos ||
          (i == 0 && request.url == "https://short.example/")) {
        std::string next =
            i + 1 == hops ? "https://apm.final.example/" : "/hop" + std::to_string(i + 1);
        return Answer(code, "", {{"location", next}});
      }
    }
    return Answer(200, "<html>");
  };
}

TEST(ResolveServerUrlTest, FollowsEachKindOfRedirect) {
  for (int code : {301, 302, 303, 307, 308}) {
    FakeHttpClient http(Chain(2, code));
    Result<std::string> url = ResolveServerUrl(http, "https://short.example", false);
    ASSERT_TRUE(url.ok()) << code << ": " << url.status().ToString();
    EXPECT_EQ(*url, "https://apm.final.example");
    EXPECT_EQ(http.requests().size(), 3u);
  }
}

TEST(ResolveServerUrlTest, FiveHopsAtMost) {
  FakeHttpClient five(Chain(5, 302));
  EXPECT_EQ(*ResolveServerUrl(five, "https://short.example", false), "https://apm.final.example");
  FakeHttpClient six(Chain(6, 302));
  Result<std::string> url = ResolveServerUrl(six, "https://short.example", false);
  ASSERT_FALSE(url.ok());
  EXPECT_THAT(url.status().message(), HasSubstr("more than 5"));
}

TEST(ResolveServerUrlTest, NoDowngradeToHttp) {
  FakeHttpClient http([](const HttpRequest&) -> Result<HttpResponse> {
    return Answer(301, "", {{"Location", "http://apm.example/"}});
  });
  Result<std::string> url = ResolveServerUrl(http, "https://short.example", false);
  ASSERT_FALSE(url.ok());
  EXPECT_THAT(url.status().message(), HasSubstr("plain http"));
}

TEST(ResolveServerUrlTest, NoRedirectKeepsTheUrlAndTransportErrorsPassThrough) {
  FakeHttpClient ok([](const HttpRequest&) -> Result<HttpResponse> { return Answer(200); });
  EXPECT_EQ(*ResolveServerUrl(ok, "https://apm.example", false), "https://apm.example");
  FakeHttpClient down([](const HttpRequest&) -> Result<HttpResponse> {
    return Status::Unavailable("connection refused");
  });
  Result<std::string> url = ResolveServerUrl(down, "https://apm.example", false);
  EXPECT_EQ(url.status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace apm::client
