// The SQLite store's schema as the migrations that build it, applied in order; PRAGMA
// user_version records how many have run. Never edit a released migration: add a new one.
#pragma once

#include <span>

namespace apm {

std::span<const char* const> SqliteMigrations();

}  // namespace apm
