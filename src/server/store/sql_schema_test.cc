#include "server/store/sql_schema.h"

#include "server/store/sql_copy.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "server/store/testing/store_backend.h"

namespace apm {
namespace {

using testing::Backend;
using testing::TestDatabase;

// Table -> its columns, after every migration ran, as the database itself reports them.
std::map<std::string, std::set<std::string>> Columns(const TestDatabase& db) {
  auto store = db.Open();
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  auto c = db.Connect();
  EXPECT_TRUE(c.ok());
  std::map<std::string, std::set<std::string>> out;
  if (!c.ok()) return out;
  const char* sql =
      db.backend() == Backend::kSqlite
          ? "SELECT m.name, p.name FROM sqlite_schema AS m, pragma_table_info(m.name) AS p "
            "WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'"
          : "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name <> 'apm_schema'";
  auto q = (*c)->Statement(sql);
  EXPECT_TRUE(q.ok());
  while (q.ok() && q->Step() == SqlStep::kRow) out[q->Text(0)].insert(q->Text(1));
  return out;
}

TEST(SqlSchemaTest, BothDialectsBuildTheSameTablesAndColumns) {
  TestDatabase sqlite(Backend::kSqlite), postgres(Backend::kPostgres);
  auto lite = Columns(sqlite), pg = Columns(postgres);
  ASSERT_FALSE(lite.empty());
  // PostgreSQL spells out SQLite's implicit row order as a column of request_steps.
  lite["request_steps"].insert("rowid");
  EXPECT_EQ(lite, pg);
  EXPECT_TRUE(lite.count("leases"));
  EXPECT_TRUE(lite["requests"].count("requested_action"));
}

// `db copy` moves every table but the change counter (carried on by itself) and the leases
// (held by running instances), with every column.
TEST(SqlSchemaTest, DbCopyCopiesEveryTableAndColumn) {
  TestDatabase sqlite(Backend::kSqlite);
  auto schema = Columns(sqlite);
  ASSERT_TRUE(schema.count("request_diagnostics"));
  schema.erase("counters");
  schema.erase("leases");
  EXPECT_EQ(CopiedColumns(), schema);
}

TEST(SqlSchemaTest, EveryMigrationHasBothDialects) {
  for (const SchemaMigration& m : Migrations()) {
    EXPECT_NE(std::string(m.sqlite).find_first_not_of(" \n"), std::string::npos);
    EXPECT_NE(std::string(m.postgres).find_first_not_of(" \n"), std::string::npos);
  }
}

}  // namespace
}  // namespace apm
