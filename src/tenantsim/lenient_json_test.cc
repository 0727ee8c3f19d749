#include "tenantsim/lenient_json.h"

#include <gtest/gtest.h>

namespace apm::sim {
namespace {

TEST(LenientJsonTest, AcceptsStrictJson) {
  nlohmann::json j = ParseLenientJson(R"({"displayName":"PC01","n":[1,true,null]})");
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j["displayName"], "PC01");
  EXPECT_EQ(j["n"][1], true);
}

TEST(LenientJsonTest, AcceptsTheScriptsUnquotedKeys) {
  // Set-AutopilotDevice builds its body like this (§3 Actions).
  nlohmann::json j = ParseLenientJson("{ displayName: \"PC:01, x\", groupTag: 'A \"B\"' }");
  ASSERT_TRUE(j.is_object()) << j;
  EXPECT_EQ(j["displayName"], "PC:01, x");
  EXPECT_EQ(j["groupTag"], "A \"B\"");
  nlohmann::json nested = ParseLenientJson("{a: {b: true}, c: null}");
  EXPECT_EQ(nested["a"]["b"], true);
  EXPECT_TRUE(nested["c"].is_null());
}

TEST(LenientJsonTest, RejectsWhatIsNotJsonEvenSo) {
  EXPECT_TRUE(ParseLenientJson("{ displayName \"PC01\" }").is_discarded());
  EXPECT_TRUE(ParseLenientJson("{ displayName: PC01 }").is_discarded());
  EXPECT_TRUE(ParseLenientJson("").is_discarded());
  EXPECT_TRUE(ParseLenientJson("{ a: 'unterminated }").is_discarded());
}

}  // namespace
}  // namespace apm::sim
