#include "core/text.h"

#include <gtest/gtest.h>

namespace apm {
namespace {

TEST(Text, HtmlEscapeCoversTextAndQuotedAttributes) {
  EXPECT_EQ(HtmlEscape("<script>alert('x')</script> & \"y\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;y&quot;");
  EXPECT_EQ(HtmlEscape("plain ÄÖ text"), "plain ÄÖ text");
  EXPECT_EQ(HtmlEscape(""), "");
}

TEST(Text, TrimAndCompare) {
  EXPECT_EQ(Trim("  a b \t\n"), "a b");
  EXPECT_TRUE(EqualsIgnoreCase("LeNoVo", "lenovo"));
  EXPECT_FALSE(EqualsIgnoreCase("lenovo", "lenov"));
}

TEST(ValidUtf8Text, ReplacesWhatIsNotUtf8AndNul) {
  using namespace std::string_literals;
  EXPECT_EQ(ValidUtf8Text("plain \xC3\xA9"), "plain \xC3\xA9");
  EXPECT_EQ(ValidUtf8Text("a\xFF\xFE"
                          "b"),
            "a\xEF\xBF\xBD\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(ValidUtf8Text("a\0b"s),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(ValidUtf8Text("\xE2\x82"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // truncated
  EXPECT_TRUE(IsValidUtf8(ValidUtf8Text("\xED\xA0\x80")));           // a surrogate
}

}  // namespace
}  // namespace apm
