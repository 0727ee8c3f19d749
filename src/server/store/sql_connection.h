// The narrow database interface the store is written against, so the same store code (and the
// same test suite) runs on SQLite (embedded default) and PostgreSQL (several instances).
// Statements are written once with SQLite's numbered parameters (?1, ?2, …); the PostgreSQL
// connection rewrites them to $1, $2, ….
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "core/status.h"

namespace apm {

enum class SqlStep { kRow, kDone, kError };
enum class SqlDialect { kSqlite, kPostgres };

// A statement a connection prepared and keeps; one use at a time.
class SqlCursor {
 public:
  virtual ~SqlCursor() = default;
  virtual void Bind(int i, std::string_view v) = 0;
  virtual void Bind(int i, int64_t v) = 0;
  virtual void BindNull(int i) = 0;
  // The next row, or done (the first call runs the statement).
  virtual SqlStep Step() = 0;
  virtual std::string Text(int col) const = 0;
  virtual int64_t Int(int col) const = 0;
  virtual bool IsNull(int col) const = 0;
  // Forgets bindings and rows, ready for the next use.
  virtual void Reset() = 0;
};

// A borrowed cursor, reset when it goes out of scope.
class SqlStatement {
 public:
  explicit SqlStatement(SqlCursor* cursor) : cursor_(cursor) {}
  SqlStatement(SqlStatement&& other) noexcept : cursor_(std::exchange(other.cursor_, nullptr)) {}
  SqlStatement(const SqlStatement&) = delete;
  SqlStatement& operator=(const SqlStatement&) = delete;
  SqlStatement& operator=(SqlStatement&&) = delete;
  ~SqlStatement() {
    if (cursor_) cursor_->Reset();
  }

  SqlStatement& Bind(int i, std::string_view v) {
    cursor_->Bind(i, v);
    return *this;
  }
  SqlStatement& Bind(int i, const char* v) { return Bind(i, std::string_view(v)); }
  SqlStatement& Bind(int i, const std::string& v) { return Bind(i, std::string_view(v)); }
  SqlStatement& Bind(int i, int64_t v) {
    cursor_->Bind(i, v);
    return *this;
  }
  SqlStatement& BindNull(int i) {
    cursor_->BindNull(i);
    return *this;
  }
  SqlStep Step() { return cursor_->Step(); }
  std::string Text(int col) const { return cursor_->Text(col); }
  int64_t Int(int col) const { return cursor_->Int(col); }
  bool IsNull(int col) const { return cursor_->IsNull(col); }

 private:
  SqlCursor* cursor_;
};

class SqlConnection {
 public:
  virtual ~SqlConnection() = default;
  virtual SqlDialect dialect() const = 0;
  // Runs one or more statements that return nothing.
  virtual Status Exec(const char* sql) = 0;
  // The connection's cached statement for `sql` (a string literal: the pointer is the key).
  virtual Result<SqlStatement> Statement(const char* sql) = 0;
  // The last error as a Status naming `what`; kUnavailable when retrying may help.
  virtual Status Error(const char* what) const = 0;
  // Rows changed by the last INSERT, UPDATE or DELETE.
  virtual int64_t Changes() const = 0;
  // Starts a write transaction that excludes every other writer of the database (SQLite's
  // write lock; on PostgreSQL a transaction-scoped advisory lock shared by all instances), so
  // commits happen in change-sequence order.
  virtual Status BeginWrite() = 0;
  // Starts a read-only transaction that sees one snapshot.
  virtual Status BeginRead() = 0;
  // False once the link to the database is gone (the pool drops such a connection).
  virtual bool Healthy() const = 0;
  // True once the storage failed to make a write durable (a failed fsync or write): what was
  // written since the last good sync may be lost, so nothing later may be acknowledged either.
  virtual bool StorageFailed() const { return false; }
  // The schema version recorded in the database (0 when new).
  virtual Result<int> SchemaVersion() = 0;
  virtual Status SetSchemaVersion(int version) = 0;
};

// A transaction on `c`; rolls back unless committed.
class SqlTransaction {
 public:
  explicit SqlTransaction(SqlConnection& c) : c_(c) {}
  ~SqlTransaction() {
    if (open_) (void)c_.Exec("ROLLBACK");
  }
  Status BeginWrite() { return Started(c_.BeginWrite()); }
  Status BeginRead() { return Started(c_.BeginRead()); }
  Status Commit() {
    Status s = c_.Exec("COMMIT");
    if (s.ok()) open_ = false;
    return s;
  }

 private:
  Status Started(Status s) {
    open_ = s.ok();
    return s;
  }
  SqlConnection& c_;
  bool open_ = false;
};

// Runs a statement that returns no rows (or ignores them).
inline Status RunToCompletion(SqlConnection& c, SqlStatement& s, const char* what) {
  if (s.Step() == SqlStep::kError) return c.Error(what);
  return Status::Ok();
}

}  // namespace apm
