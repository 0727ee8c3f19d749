#include "server/http/form.h"

#include <gtest/gtest.h>

namespace apm {
namespace {

TEST(Form, DecodesFields) {
  auto f = ParseForm(
      "client_id=abc&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default&client_secret=a+b%2Bc"
      "&empty=&flag&client_id=second");
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->at("client_id"), "abc");  // the first of a repeated name
  EXPECT_EQ(f->at("scope"), "https://graph.microsoft.com/.default");
  EXPECT_EQ(f->at("client_secret"), "a b+c");
  EXPECT_EQ(f->at("empty"), "");
  EXPECT_EQ(f->at("flag"), "");
}

TEST(Form, RejectsBadEscapes) {
  EXPECT_FALSE(ParseForm("a=%4").has_value());
  EXPECT_FALSE(ParseForm("a=%zz").has_value());
  EXPECT_FALSE(UrlDecode("%").has_value());
  EXPECT_EQ(*UrlDecode("%41%62"), "Ab");
  EXPECT_TRUE(ParseForm("").has_value());
}

TEST(Cookie, FindsTheNamedValueAmongOthers) {
  EXPECT_EQ(CookieFromHeader("a=1; apm_session=s1;b=2", "apm_session"), "s1");
  EXPECT_EQ(CookieFromHeader("  apm_session = x", "apm_session"), std::nullopt)
      << "a name is matched exactly, spaces inside a pair included";
  EXPECT_EQ(CookieFromHeader("apm_session=first; apm_session=second", "apm_session"), "first");
  EXPECT_EQ(CookieFromHeader("apm_session=", "apm_session"), "");
  EXPECT_EQ(CookieFromHeader("x_apm_session=1; apm_session_x=2", "apm_session"), std::nullopt);
  EXPECT_EQ(CookieFromHeader(";;; =; =v; apm_session=v=w;", "apm_session"), "v=w");
  EXPECT_EQ(CookieFromHeader("", "apm_session"), std::nullopt);
}

}  // namespace
}  // namespace apm
