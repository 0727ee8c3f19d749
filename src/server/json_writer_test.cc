#include "server/json_writer.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace apm {
namespace {

TEST(JsonWriter, WritesNestedValuesThatParse) {
  JsonWriter w;
  w.BeginObject()
      .Key("a")
      .String("x\"y\\z\n\x01")
      .Key("n")
      .Int(-42)
      .Key("b")
      .Bool(true)
      .Key("z")
      .Null()
      .Key("o")
      .BeginObject()
      .Key("k")
      .String("ü")
      .EndObject()
      .Key("arr")
      .BeginArray()
      .String("1")
      .String("2")
      .EndArray()
      .EndObject();
  std::string text = w.Take();
  nlohmann::json j = nlohmann::json::parse(text);
  EXPECT_EQ(j["a"], "x\"y\\z\n\x01");
  EXPECT_EQ(j["n"], -42);
  EXPECT_EQ(j["b"], true);
  EXPECT_TRUE(j["z"].is_null());
  EXPECT_EQ(j["o"]["k"], "ü");
  EXPECT_EQ(j["arr"], nlohmann::json::array({"1", "2"}));
}

}  // namespace
}  // namespace apm
