// SqlConnection on libpq (PostgreSQL). Chosen over libpqxx: the store needs a dozen calls
// (connect, exec with parameters, results, notifications), and libpq is what every PostgreSQL
// install and Debian ship; libpqxx would add a second ABI to track for no behaviour we use.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "server/store/sql_connection.h"

struct pg_conn;
struct pg_result;

namespace apm {

struct PgOptions {
  // A libpq connection string or URI ("postgresql://user@host/db?sslmode=verify-full"): TLS,
  // host lists and target_session_attrs are libpq's and work as documented there.
  std::string url;
  int connect_timeout_seconds = 5;
  int statement_timeout_ms = 10'000;
  int lock_timeout_ms = 5'000;
};

class PgConnection : public SqlConnection {
 public:
  static Result<std::unique_ptr<PgConnection>> Open(const PgOptions& options);
  ~PgConnection() override;

  SqlDialect dialect() const override { return SqlDialect::kPostgres; }
  Status Exec(const char* sql) override;
  Result<SqlStatement> Statement(const char* sql) override;
  Status Error(const char* what) const override;
  int64_t Changes() const override { return changes_; }
  Status BeginWrite() override;
  Status BeginRead() override;
  bool Healthy() const override;
  Result<int> SchemaVersion() override;
  Status SetSchemaVersion(int version) override;

  // The socket, for waiting on notifications (LISTEN), and the next one received ("" = none).
  int Socket() const;
  Result<std::string> NextNotification();

 private:
  class Cursor;
  explicit PgConnection(pg_conn* conn);
  // Records the outcome of a command; false when it failed.
  bool Check(pg_result* result, const char* what);

  pg_conn* conn_;
  int64_t changes_ = 0;
  int prepared_ = 0;      // statements prepared on this connection (their names)
  std::string error_;     // the last error's message
  std::string sqlstate_;  // and its SQLSTATE ("" when the link itself failed)
  std::unordered_map<const char*, std::unique_ptr<Cursor>> statements_;
};

// SQLite-style numbered parameters (?1) as PostgreSQL's ($1), outside string literals.
std::string PgParameters(std::string_view sql);

// True for a "postgresql://" or "postgres://" URI or a libpq key=value string.
bool IsPostgresUrl(std::string_view url);

}  // namespace apm
