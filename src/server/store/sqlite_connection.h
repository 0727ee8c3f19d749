// A thin RAII layer over sqlite3: a connection with a cache of prepared statements.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "core/status.h"

namespace apm {

// A prepared statement borrowed from the connection's cache; reset when it goes out of scope.
class SqliteStatement {
 public:
  explicit SqliteStatement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  SqliteStatement(SqliteStatement&& other) noexcept : stmt_(std::exchange(other.stmt_, nullptr)) {}
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;
  SqliteStatement& operator=(SqliteStatement&&) = delete;
  ~SqliteStatement() {
    if (!stmt_) return;
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  SqliteStatement& Bind(int i, std::string_view v) {
    sqlite3_bind_text(stmt_, i, v.data(), int(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  SqliteStatement& Bind(int i, int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  SqliteStatement& BindNull(int i) {
    sqlite3_bind_null(stmt_, i);
    return *this;
  }
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int Step() { return sqlite3_step(stmt_); }

  std::string Text(int col) const {
    const unsigned char* t = sqlite3_column_text(stmt_, col);
    return t ? std::string(reinterpret_cast<const char*>(t),
                           size_t(sqlite3_column_bytes(stmt_, col)))
             : std::string();
  }
  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

 private:
  sqlite3_stmt* stmt_;
};

class SqliteConnection {
 public:
  static Result<std::unique_ptr<SqliteConnection>> Open(const std::string& path);
  ~SqliteConnection();

  Status Exec(const char* sql);
  // Prepared once per connection and reused.
  Result<sqlite3_stmt*> Prepare(const char* sql);
  // The cached statement for `sql`, reset and unbound again when the result goes away.
  Result<SqliteStatement> Statement(const char* sql) {
    Result<sqlite3_stmt*> stmt = Prepare(sql);
    if (!stmt.ok()) return stmt.status();
    return SqliteStatement(*stmt);
  }
  Status Error(const char* what) const;
  sqlite3* db() const { return db_; }

 private:
  explicit SqliteConnection(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::unordered_map<const char*, sqlite3_stmt*> statements_;
};

// A write transaction; rolls back unless committed.
class SqliteTransaction {
 public:
  explicit SqliteTransaction(SqliteConnection& c) : c_(c) {}
  ~SqliteTransaction() {
    if (open_) (void)c_.Exec("ROLLBACK");
  }
  Status Begin() {
    Status s = c_.Exec("BEGIN IMMEDIATE");
    open_ = s.ok();
    return s;
  }
  Status Commit() {
    Status s = c_.Exec("COMMIT");
    if (s.ok()) open_ = false;
    return s;
  }

 private:
  SqliteConnection& c_;
  bool open_ = false;
};

// Runs a statement that returns no rows.
inline Status RunToCompletion(SqliteConnection& c, SqliteStatement& s, const char* what) {
  int rc = s.Step();
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) return c.Error(what);
  return Status::Ok();
}

}  // namespace apm
