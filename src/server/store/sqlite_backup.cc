#include "server/store/sqlite_backup.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

namespace apm {
namespace {

struct Closer {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using Db = std::unique_ptr<sqlite3, Closer>;

Result<Db> OpenDb(const std::string& path, int flags) {
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  Db db(raw);
  if (rc != SQLITE_OK) {
    return Status::Unavailable(path + ": " + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  }
  sqlite3_busy_timeout(raw, 10'000);
  return db;
}

// fsync of a file or a directory, so a rename that follows survives a power cut.
Status Sync(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 || ::fsync(fd) != 0) {
    if (fd >= 0) ::close(fd);
    return Status::Unavailable("cannot flush " + path + " to disk");
  }
  ::close(fd);
  return Status::Ok();
}

Result<int64_t> CountRequests(sqlite3* db) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM requests", -1, &stmt, nullptr) != SQLITE_OK) {
    return Status::Internal(std::string("the copy cannot be read: ") + sqlite3_errmsg(db));
  }
  int64_t n = sqlite3_step(stmt) == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : -1;
  sqlite3_finalize(stmt);
  if (n < 0) return Status::Internal(std::string("the copy cannot be read: ") + sqlite3_errmsg(db));
  return n;
}

// Copies `from` to `partial` in one read transaction and makes the copy self-contained (a
// rollback journal instead of the source's write-ahead log); returns its request count.
Result<int64_t> CopyInOneSnapshot(const std::string& from, const std::string& partial) {
  Result<Db> source = OpenDb(from, SQLITE_OPEN_READONLY);
  if (!source.ok()) return source.status();
  Result<Db> copy = OpenDb(partial, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  if (!copy.ok()) return copy.status();
  sqlite3_backup* backup = sqlite3_backup_init(copy->get(), "main", source->get(), "main");
  if (!backup) {
    return Status::Unavailable("backup of " + from + " failed: " + sqlite3_errmsg(copy->get()));
  }
  int rc = sqlite3_backup_step(backup, -1);  // all pages in one step: one snapshot
  sqlite3_backup_finish(backup);
  if (rc != SQLITE_DONE) {
    return Status::Unavailable("backup of " + from + " failed: " + sqlite3_errstr(rc));
  }
  if (sqlite3_exec(copy->get(), "PRAGMA journal_mode=DELETE", nullptr, nullptr, nullptr) !=
      SQLITE_OK) {
    return Status::Unavailable(std::string("backup: ") + sqlite3_errmsg(copy->get()));
  }
  return CountRequests(copy->get());
}

}  // namespace

Result<BackupReport> BackupSqliteDatabase(const std::string& from, const std::string& to) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::exists(to, ec)) return Status::AlreadyExists(to + " exists; choose a new file name");
  if (!fs::exists(from, ec)) return Status::NotFound(from + " does not exist (check DataDir)");
  std::string partial = to + ".partial";
  auto discard = [&] {
    for (const char* suffix : {"", "-journal", "-wal", "-shm"}) fs::remove(partial + suffix, ec);
  };
  discard();
  Result<int64_t> requests = CopyInOneSnapshot(from, partial);
  if (!requests.ok()) {
    discard();
    return requests.status();
  }
  if (Status s = Sync(partial); !s.ok()) {
    discard();
    return s;
  }
  // link() refuses an existing name, where rename() would replace a file made meanwhile.
  if (::link(partial.c_str(), to.c_str()) != 0) {
    int error = errno;
    discard();
    return Status::Unavailable("cannot write " + to + ": " + std::strerror(error));
  }
  discard();
  fs::path dir = fs::absolute(to).parent_path();
  if (Status s = Sync(dir.string()); !s.ok()) return s;
  return BackupReport{.requests = *requests, .bytes = int64_t(fs::file_size(to, ec))};
}

}  // namespace apm
