// The databases the store test suite runs on: a fresh SQLite file, or a fresh schema in the
// PostgreSQL cluster ctest starts (tests/pg/cluster, the `postgres` fixture), named by
// the file APM_TEST_DATABASE_URL_FILE. A PostgreSQL run without it fails: it is never skipped.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <ostream>
#include <string>

#include <unistd.h>

#include "server/store/pg_connection.h"
#include "server/store/sql_request_store.h"
#include "server/testing/temp_dir.h"

namespace apm::testing {

enum class Backend { kSqlite, kPostgres };

inline void PrintTo(Backend b, std::ostream* os) {
  *os << (b == Backend::kSqlite ? "SQLite" : "PostgreSQL");
}

inline std::string BackendName(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::kSqlite ? "Sqlite" : "Postgres";
}

// The conninfo of the test cluster, from the file APM_TEST_DATABASE_URL_FILE names ("" if none).
inline std::string TestDatabaseUrl() {
  const char* file = std::getenv("APM_TEST_DATABASE_URL_FILE");
  if (!file) return "";
  std::ifstream in(file);
  std::string url;
  std::getline(in, url);
  return url;
}

// One test's database; dropped with the object.
class TestDatabase {
 public:
  explicit TestDatabase(Backend backend) : backend_(backend) {
    if (backend_ == Backend::kSqlite) return;
    std::string url = TestDatabaseUrl();
    if (url.empty()) {
      ADD_FAILURE() << "APM_TEST_DATABASE_URL_FILE names no readable file: run the store "
                       "tests through ctest, which starts a PostgreSQL cluster (tests/pg/cluster)";
      return;
    }
    static std::atomic<int> counter{0};
    schema_ = "t" + std::to_string(getpid()) + "_" + std::to_string(counter++);
    base_url_ = url;
    auto admin = PgConnection::Open({.url = base_url_});
    if (!admin.ok()) {
      ADD_FAILURE() << admin.status().ToString();
      return;
    }
    std::string sql = "DROP SCHEMA IF EXISTS " + schema_ + " CASCADE; CREATE SCHEMA " + schema_;
    EXPECT_TRUE((*admin)->Exec(sql.c_str()).ok());
  }
  ~TestDatabase() {
    if (schema_.empty()) return;
    auto admin = PgConnection::Open({.url = base_url_});
    if (!admin.ok()) return;
    std::string sql = "DROP SCHEMA IF EXISTS " + schema_ + " CASCADE";
    (void)(*admin)->Exec(sql.c_str());
  }

  Backend backend() const { return backend_; }
  // The URL a server or store uses for this database (PostgreSQL), or the SQLite file.
  std::string Url() const {
    if (backend_ == Backend::kSqlite) return dir_.File("apm.db");
    return base_url_ + " application_name=" + schema_ + " options=-csearch_path=" + schema_;
  }
  // PostgreSQL: this database's connections show this application name.
  std::string ApplicationName() const { return schema_; }
  PgOptions Pg() const { return {.url = Url()}; }

  Result<std::unique_ptr<SqlRequestStore>> Open(SqlStoreOptions options = {}) const {
    if (backend_ == Backend::kSqlite) return SqlRequestStore::Open(Url());
    return SqlRequestStore::OpenPostgres(Pg(), options);
  }
  // A connection of its own, for looking behind the store's back.
  Result<std::unique_ptr<SqlConnection>> Connect() const {
    return backend_ == Backend::kSqlite ? SqliteConnector(Url())() : PgConnector(Pg())();
  }

 private:
  Backend backend_;
  ScopedTempDir dir_{"apm-store-test"};
  std::string base_url_;
  std::string schema_;
};

}  // namespace apm::testing
