#include "server/http/route_table.h"

#include <gtest/gtest.h>

namespace apm {
namespace {

TEST(Segments, SkipEmptyOnes) {
  EXPECT_EQ(Segments("/a//b/"), (std::vector<std::string_view>{"a", "b"}));
  EXPECT_TRUE(Segments("/").empty());
  EXPECT_TRUE(Segments("").empty());
}

TEST(RouteTable, MatchesPatternThenMethod) {
  RouteTable<int> table({{"/", "GET, HEAD", 1},
                         {"/api/v1/requests", "POST", 2},
                         {"/api/v1/requests/{id}", "GET", 3},
                         {"/things/{id}/parts/{id}", "GET", 4}});
  auto home = table.Find("/", "HEAD");
  ASSERT_TRUE(home.route);
  EXPECT_EQ(home.route->target, 1);

  auto status = table.Find("/api/v1/requests/abc", "GET");
  ASSERT_TRUE(status.route);
  EXPECT_EQ(status.route->target, 3);
  EXPECT_EQ(status.params, std::vector<std::string>{"abc"});
  EXPECT_EQ(status.label, "/api/v1/requests/{id}");

  auto two = table.Find("/things/t1/parts/p2/", "GET");
  ASSERT_TRUE(two.route);
  EXPECT_EQ(two.params, (std::vector<std::string>{"t1", "p2"}));

  // The path is known, the method is not: what to put in Allow, and the route's label.
  auto wrong = table.Find("/api/v1/requests", "GET");
  EXPECT_FALSE(wrong.route);
  EXPECT_EQ(wrong.allow, "POST");
  EXPECT_EQ(wrong.label, "/api/v1/requests");

  auto none = table.Find("/api/v1/requests/abc/more", "GET");
  EXPECT_FALSE(none.route);
  EXPECT_TRUE(none.label.empty());
  EXPECT_FALSE(table.Find("/API/v1/requests", "POST").route);  // paths are case-sensitive
}

TEST(RouteTable, MethodLists) {
  EXPECT_TRUE(MethodListed("GET, HEAD", "HEAD"));
  EXPECT_TRUE(MethodListed("POST", "POST"));
  EXPECT_FALSE(MethodListed("GET, HEAD", "POST"));
  EXPECT_FALSE(MethodListed("GET", "get"));
  EXPECT_FALSE(MethodListed("", "GET"));
}

}  // namespace
}  // namespace apm
