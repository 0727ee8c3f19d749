// The store's schema as the migrations that build it, applied in order; each database records
// how many have run (SQLite: PRAGMA user_version; PostgreSQL: the apm_schema table). Never edit
// a released migration: add a new one.
#pragma once

#include <span>

#include "server/store/sql_connection.h"

namespace apm {

struct SchemaMigration {
  const char* sqlite;
  const char* postgres;
  const char* For(SqlDialect d) const { return d == SqlDialect::kSqlite ? sqlite : postgres; }
};

std::span<const SchemaMigration> Migrations();

}  // namespace apm
