#include "server/store/sqlite_connection.h"

#include <memory>

namespace apm {

class SqliteConnection::Cursor : public SqlCursor {
 public:
  explicit Cursor(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~Cursor() override { sqlite3_finalize(stmt_); }
  void Bind(int i, std::string_view v) override {
    sqlite3_bind_text(stmt_, i, v.data(), int(v.size()), SQLITE_TRANSIENT);
  }
  void Bind(int i, int64_t v) override { sqlite3_bind_int64(stmt_, i, v); }
  void BindNull(int i) override { sqlite3_bind_null(stmt_, i); }
  SqlStep Step() override {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return SqlStep::kRow;
    return rc == SQLITE_DONE ? SqlStep::kDone : SqlStep::kError;
  }
  std::string Text(int col) const override {
    const unsigned char* t = sqlite3_column_text(stmt_, col);
    return t ? std::string(reinterpret_cast<const char*>(t),
                           size_t(sqlite3_column_bytes(stmt_, col)))
             : std::string();
  }
  int64_t Int(int col) const override { return sqlite3_column_int64(stmt_, col); }
  bool IsNull(int col) const override { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  void Reset() override {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

 private:
  sqlite3_stmt* stmt_;
};

Result<std::unique_ptr<SqliteConnection>> SqliteConnection::Open(const std::string& path) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return Status::Unavailable("cannot open database " + path + ": " + msg);
  }
  // Writers are serialized in-process; the timeout covers other processes (admin commands).
  sqlite3_busy_timeout(db, 5000);
  auto conn = std::unique_ptr<SqliteConnection>(new SqliteConnection(db));
  // WAL: readers never block the writer. synchronous=FULL: a commit is on disk (WAL fsync)
  // before we answer 201, so an acknowledged request survives a power cut, not only a crash.
  Status s = conn->Exec(
      "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
      "PRAGMA cache_size=-4096;");
  if (!s.ok()) return s;
  return conn;
}

SqliteConnection::SqliteConnection(sqlite3* db) : db_(db) {}

SqliteConnection::~SqliteConnection() {
  statements_.clear();
  sqlite3_close(db_);
}

Status SqliteConnection::Exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    return Status::Internal("sqlite: " + msg);
  }
  return Status::Ok();
}

Result<SqlStatement> SqliteConnection::Statement(const char* sql) {
  auto it = statements_.find(sql);
  if (it == statements_.end()) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK) {
      return Error("prepare");
    }
    it = statements_.emplace(sql, std::make_unique<Cursor>(stmt)).first;
  }
  return SqlStatement(it->second.get());
}

Status SqliteConnection::Error(const char* what) const {
  int code = sqlite3_errcode(db_);
  std::string msg = std::string("sqlite ") + what + ": " + sqlite3_errmsg(db_);
  if (code == SQLITE_BUSY || code == SQLITE_LOCKED) return Status::Unavailable(msg);
  return Status::Internal(msg);
}

Result<int> SqliteConnection::SchemaVersion() {
  Result<SqlStatement> s = Statement("PRAGMA user_version");
  if (!s.ok()) return s.status();
  if (s->Step() != SqlStep::kRow) return Error("read schema version");
  return int(s->Int(0));
}

Status SqliteConnection::SetSchemaVersion(int version) {
  std::string set = "PRAGMA user_version = " + std::to_string(version);
  return Exec(set.c_str());
}

}  // namespace apm
