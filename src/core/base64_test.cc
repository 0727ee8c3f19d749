#include "core/base64.h"

#include <gtest/gtest.h>

namespace apm {
namespace {

TEST(Base64, RoundTripsAllLengths) {
  std::string bytes;
  for (int i = 0; i < 64; ++i) {
    Result<std::string> back = Base64Decode(Base64Encode(bytes));
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, bytes);
    bytes.push_back(char(i * 37));
  }
}

TEST(Base64, Rfc4648Vectors) {
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64UrlEncodeNoPad("\xfb\xff"), "-_8");
}

TEST(Base64, AcceptsMissingPadding) {
  Result<std::string> r = Base64Decode("Zm8");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "fo");
}

TEST(Base64, RejectsBadInput) {
  EXPECT_FALSE(Base64Decode("Zm9v YmFy").ok());  // white space
  EXPECT_FALSE(Base64Decode("-_8").ok());        // URL-safe alphabet
  EXPECT_FALSE(Base64Decode("Zg=").ok());        // wrong padding
  EXPECT_FALSE(Base64Decode("Z").ok());          // impossible length
  EXPECT_FALSE(Base64Decode("Zh==").ok());       // non-zero trailing bits
  EXPECT_NE(Base64Decode("Zm9v!mFy").status().message().find("position 4"), std::string::npos);
}

}  // namespace
}  // namespace apm

TEST(Base64Url, DecodesWhatTheEncoderWritesAndRefusesTheStandardAlphabet) {
  std::string bytes = "\xfb\xff\xbf?>";
  std::string text = apm::Base64UrlEncodeNoPad(bytes);
  EXPECT_EQ(text.find_first_of("+/="), std::string::npos);
  apm::Result<std::string> back = apm::Base64UrlDecodeNoPad(text);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, bytes);
  EXPECT_FALSE(apm::Base64UrlDecodeNoPad("+/8").ok());
  EXPECT_FALSE(apm::Base64UrlDecodeNoPad("AA==").ok());
  EXPECT_FALSE(apm::Base64UrlDecodeNoPad("A").ok());
}
