#include "server/store/pg_connection.h"

#include <gtest/gtest.h>

namespace apm {
namespace {

TEST(PgConnectionTest, NumberedParametersBecomeDollarsOutsideLiterals) {
  EXPECT_EQ(PgParameters("SELECT a FROM t WHERE b = ?1 AND c = '?2' AND d = ?12"),
            "SELECT a FROM t WHERE b = $1 AND c = '?2' AND d = $12");
  EXPECT_EQ(PgParameters("UPDATE t SET x = 'it''s ?' WHERE y = ?3"),
            "UPDATE t SET x = 'it''s ?' WHERE y = $3");
}

TEST(PgConnectionTest, RecognisesUrisAndKeyValueStrings) {
  EXPECT_TRUE(IsPostgresUrl("postgresql://apm@db/apm?sslmode=verify-full"));
  EXPECT_TRUE(IsPostgresUrl("postgres://db/apm"));
  EXPECT_TRUE(IsPostgresUrl("host=/run/postgresql dbname=apm"));
  EXPECT_FALSE(IsPostgresUrl("/var/lib/apm/apm.db"));
  EXPECT_FALSE(IsPostgresUrl("mysql://db/apm"));
}

TEST(PgConnectionTest, AnUnreachableDatabaseIsUnavailableAndNamesTheProblem) {
  auto c = PgConnection::Open(
      {.url = "host=127.0.0.1 port=1 dbname=apm user=apm", .connect_timeout_seconds = 2});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(c.status().message().find("cannot connect to PostgreSQL"), std::string::npos);
}

}  // namespace
}  // namespace apm
