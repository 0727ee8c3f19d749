#include "server/store/sqlite_integrity.h"

#include <sqlite3.h>

#include <filesystem>
#include <memory>

namespace apm {
namespace {

bool IsCorruption(int code) {
  return (code & 0xff) == SQLITE_CORRUPT || (code & 0xff) == SQLITE_NOTADB;
}

struct CloseDb {
  void operator()(sqlite3* db) const { sqlite3_close(db); }
};
struct FinalizeStatement {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};

}  // namespace

Result<std::vector<std::string>> CheckSqliteIntegrity(const std::string& path, IntegrityDepth depth,
                                                      int max_problems) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return Status::NotFound("no SQLite database at " + path);
  }
  sqlite3* raw = nullptr;
  // Read-write without create: a WAL database needs its -shm file even to be read.
  int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READWRITE, nullptr);
  std::unique_ptr<sqlite3, CloseDb> db(raw);
  if (rc != SQLITE_OK) {
    std::string msg = raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    if (IsCorruption(rc)) return std::vector<std::string>{msg};
    return Status::Unavailable("cannot open " + path + ": " + msg);
  }
  sqlite3_busy_timeout(raw, 5000);  // a running server may hold the write lock for a moment
  // Closing the last connection would checkpoint a WAL left by a crash into the file: nothing
  // is written to a file that is being checked.
  sqlite3_db_config(raw, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
  std::string sql = std::string(depth == IntegrityDepth::kQuick ? "PRAGMA quick_check("
                                                                : "PRAGMA integrity_check(") +
                    std::to_string(max_problems) + ")";
  sqlite3_stmt* stmt_raw = nullptr;
  rc = sqlite3_prepare_v2(raw, sql.c_str(), -1, &stmt_raw, nullptr);
  std::unique_ptr<sqlite3_stmt, FinalizeStatement> stmt(stmt_raw);
  std::vector<std::string> problems;
  if (rc != SQLITE_OK) {
    if (IsCorruption(rc)) return std::vector<std::string>{sqlite3_errmsg(raw)};
    return Status::Unavailable("cannot check " + path + ": " + sqlite3_errmsg(raw));
  }
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    const unsigned char* text = sqlite3_column_text(stmt.get(), 0);
    std::string line = text ? reinterpret_cast<const char*>(text) : "";
    if (line != "ok") problems.push_back(std::move(line));
  }
  if (rc != SQLITE_DONE) {
    // A page so broken that the check itself stops is a problem, not a failure to check.
    if (IsCorruption(rc)) {
      problems.push_back(sqlite3_errmsg(raw));
      return problems;
    }
    return Status::Unavailable("checking " + path + " failed: " + sqlite3_errmsg(raw));
  }
  return problems;
}

}  // namespace apm
