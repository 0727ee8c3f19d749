#include "server/intake_service.h"

#include <gtest/gtest.h>

#include <set>

namespace apm {
namespace {

TEST(RequestIds, AreLongUniqueAndNeverLookLikeOptions) {
  std::set<std::string> seen;
  for (int i = 0; i < 5000; ++i) {
    std::string id = NewRequestId();
    ASSERT_EQ(id.size(), 24u);
    ASSERT_NE(id[0], '-');
    ASSERT_NE(id[0], '_');
    ASSERT_TRUE(LooksLikeRequestId(id)) << id;
    ASSERT_TRUE(seen.insert(id).second);
  }
}

TEST(RequestIds, Guids) {
  EXPECT_TRUE(IsGuid("3f2504e0-4f89-11d3-9a0c-0305e82c3301"));
  EXPECT_TRUE(IsGuid("3F2504E0-4F89-11D3-9A0C-0305E82C3301"));
  EXPECT_FALSE(IsGuid("3f2504e0-4f89-11d3-9a0c-0305e82c330"));
  EXPECT_FALSE(IsGuid("3f2504e0x4f89-11d3-9a0c-0305e82c3301"));
  EXPECT_FALSE(IsGuid("3f2504e0-4f89-11d3-9a0c-0305e82c330g"));
  EXPECT_TRUE(LooksLikeRequestId("3f2504e0-4f89-11d3-9a0c-0305e82c3301"));
  EXPECT_FALSE(LooksLikeRequestId("../../etc/passwd"));
  EXPECT_FALSE(LooksLikeRequestId("short"));
  EXPECT_EQ(CanonicalRequestId("3F2504E0-4F89-11D3-9A0C-0305E82C3301"),
            "3f2504e0-4f89-11d3-9a0c-0305e82c3301");
  EXPECT_EQ(CanonicalRequestId("AbCdEfGhIjKlMnOpQrStUvWx"), "AbCdEfGhIjKlMnOpQrStUvWx");
}

}  // namespace
}  // namespace apm
