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

}  // namespace
}  // namespace apm
