// The simulator's APv2 corporate identifiers: search, import once, refuse what Graph refuses.
#include <gtest/gtest.h>

#include "tenantsim/testing/graph_test.h"

namespace apm::sim {
namespace {

constexpr const char* kIdentities = "/beta/deviceManagement/importedDeviceIdentities";

json Items(const std::string& identifier, const std::string& type = "manufacturerModelSerial") {
  return {{"importedDeviceIdentities",
           {{{"importedDeviceIdentityType", type}, {"importedDeviceIdentifier", identifier}}}}};
}

using Apv2Test = GraphTest;

TEST_F(Apv2Test, AnIdentifierIsImportedOnceAndFoundAfterwards) {
  const std::string search = std::string(kIdentities) + "/searchExistingIdentities";
  const std::string import = std::string(kIdentities) + "/importDeviceIdentityList";
  Answer none = Post(search, Items("LENOVO,21R3001BUK,PF3APV01"));
  ASSERT_EQ(none.status, 200) << none.body;
  EXPECT_TRUE(none.body["value"].empty());

  json body = Items("LENOVO,21R3001BUK,PF3APV01");
  body["overwriteImportedDeviceIdentities"] = false;
  Answer first = Post(import, body);
  ASSERT_EQ(first.status, 200) << first.body;
  ASSERT_EQ(first.body["value"].size(), 1u);
  EXPECT_EQ(first.body["value"][0]["status"], true);
  EXPECT_EQ(first.body["value"][0]["importedDeviceIdentifier"], "LENOVO,21R3001BUK,PF3APV01");
  const std::string id = first.body["value"][0]["id"];

  Answer again = Post(std::string(kIdentities) + "/microsoft.graph.importDeviceIdentityList", body);
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.body["value"][0]["status"], false) << "already held: not overwritten";
  EXPECT_EQ(model_.Stats().identity_imports_by_identifier["LENOVO,21R3001BUK,PF3APV01"], 1);

  Answer found = Post(search, Items("lenovo,21r3001buk,pf3apv01"));
  ASSERT_EQ(found.body["value"].size(), 1u);
  EXPECT_EQ(found.body["value"][0]["id"], id);
  EXPECT_EQ(Get(std::string(kIdentities) + "/" + id).body["platform"], "windows");
  EXPECT_EQ(Get(kIdentities).body["value"].size(), 1u);
  EXPECT_EQ(Call("DELETE", std::string(kIdentities) + "/" + id).status, 204);
  EXPECT_EQ(Get(std::string(kIdentities) + "/" + id).status, 404);
}

TEST_F(Apv2Test, AnIdentifierGraphWouldRefuseIsA400InIntunesShape) {
  const std::string search = std::string(kIdentities) + "/searchExistingIdentities";
  for (const char* bad : {"Dell Inc.,Latitude,ABC", "Dell,Latitude", "Dell,,ABC", "a,b,c,d", ""}) {
    Answer refused = Post(search, Items(bad));
    EXPECT_EQ(refused.status, 400) << bad;
    EXPECT_NE(Nested(refused.body)["Message"].get<std::string>().find(
                  "Invalid Device Identifier parameter found for 1 import records!"),
              std::string::npos)
        << refused.body;
  }
  EXPECT_EQ(Post(search, Items("x", "bogus")).status, 400);
  EXPECT_EQ(Post(search, json::object()).status, 400);
  EXPECT_EQ(Call("POST",
                 std::string("/v1.0/deviceManagement/importedDeviceIdentities/"
                             "searchExistingIdentities"),
                 Items("a,b,c").dump())
                .status,
            400)
      << "beta only";
}

}  // namespace
}  // namespace apm::sim
