#include "core/corporate_identifier.h"

#include <gtest/gtest.h>

namespace apm {
namespace {

TEST(CorporateIdentifier, FollowsIntunesFormat) {
  CorporateIdentifier id;
  ASSERT_FALSE(MakeCorporateIdentifier("Dell Inc.", "Latitude 5440", "ABC.123", &id));
  EXPECT_EQ(id.Text(), "Dell Inc,Latitude 5440,ABC123");
  ASSERT_FALSE(MakeCorporateIdentifier(" LENOVO ", "21R3,001BUK", "PF3X-01", &id));
  EXPECT_EQ(id.Text(), "LENOVO,21R3001BUK,PF3X-01");
}

TEST(CorporateIdentifier, NamesTheFieldThatCannotBeUsed) {
  CorporateIdentifier id;
  std::optional<FieldError> e = MakeCorporateIdentifier("HP", "X", "AB,12", &id);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->field, "serialNumber");
  e = MakeCorporateIdentifier("...", "X", "AB12", &id);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->field, "manufacturer");
  e = MakeCorporateIdentifier("HP", "", "AB12", &id);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->field, "model");
  e = MakeCorporateIdentifier("HP", "X\x01", "AB12", &id);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->field, "model");
  e = MakeCorporateIdentifier("HP", std::string(129, 'm'), "AB12", &id);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->field, "model");
  EXPECT_EQ(id.Text(), ",,") << "nothing is written on an error";
}

}  // namespace
}  // namespace apm
