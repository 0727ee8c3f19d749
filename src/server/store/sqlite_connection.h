// SqlConnection on sqlite3: a connection with a cache of prepared statements.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "server/store/sql_connection.h"

namespace apm {

class SqliteConnection : public SqlConnection {
 public:
  static Result<std::unique_ptr<SqliteConnection>> Open(const std::string& path);
  ~SqliteConnection() override;

  SqlDialect dialect() const override { return SqlDialect::kSqlite; }
  Status Exec(const char* sql) override;
  Result<SqlStatement> Statement(const char* sql) override;
  Status Error(const char* what) const override;
  int64_t Changes() const override { return sqlite3_changes64(db_); }
  Status BeginWrite() override { return Exec("BEGIN IMMEDIATE"); }
  Status BeginRead() override { return Exec("BEGIN"); }
  bool Healthy() const override { return true; }
  bool StorageFailed() const override { return storage_failed_; }
  Result<int> SchemaVersion() override;
  Status SetSchemaVersion(int version) override;

 private:
  class Cursor;
  explicit SqliteConnection(sqlite3* db);
  // The last error as a Status; notes a storage failure (StorageFailed) when it is one.
  Status Failed(std::string message);
  // Sets storage_failed_ when the last error says a write may not have reached the disk.
  void NoteStorageFailure();
  sqlite3* db_;
  bool storage_failed_ = false;
  std::unordered_map<const char*, std::unique_ptr<Cursor>> statements_;
};

}  // namespace apm
