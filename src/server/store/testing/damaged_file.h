// Damages a closed SQLite store the way a bad sector would: the page holding the root of the
// requests table is overwritten from its header on, so SQLite's checks must find it.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <fstream>
#include <string>

namespace apm::testing {

// False when the file has no requests table to damage.
inline bool DamageRequestsTable(const std::string& path) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db, "SELECT rootpage FROM sqlite_schema WHERE name = 'requests'", -1, &s,
                     nullptr);
  int64_t page = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
  int64_t page_size = 4096;
  sqlite3_finalize(s);
  if (sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &s, nullptr) == SQLITE_OK &&
      sqlite3_step(s) == SQLITE_ROW) {
    page_size = sqlite3_column_int64(s, 0);
  }
  sqlite3_finalize(s);
  sqlite3_close(db);
  if (page <= 1) return false;  // page 1 is the file header: a different failure
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp((page - 1) * page_size);
  std::string garbage(1000, '\xA5');
  f.write(garbage.data(), std::streamsize(garbage.size()));
  return bool(f);
}

}  // namespace apm::testing
