// `apm-server db migrate` (bring the configured database to this binary's schema),
// `apm-server db copy --from FILE --to URL` (move a SQLite installation to PostgreSQL) and
// `apm-server backup FILE` (a consistent copy of the SQLite store while it serves) and
// `apm-server db check` (SQLite's full integrity check of the store).
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>

#include "server/config.h"
#include "server/store/sql_request_store.h"

namespace apm {

// The store `config` names: PostgreSQL when DatabaseUrl is set, else DataDir/apm.db.
Result<std::unique_ptr<SqlRequestStore>> OpenConfiguredStore(const Config& config,
                                                             bool migrate = true);

class DbCommands {
 public:
  explicit DbCommands(CLI::App& app);
  bool chosen() const { return db_->parsed() || backup_->parsed(); }
  // The exit code.
  int Run(const Config& config);

 private:
  int Migrate(const Config& config);
  int Copy(const Config& config);
  int Backup(const Config& config);
  int Check(const Config& config);

  CLI::App* db_;
  CLI::App* migrate_;
  CLI::App* copy_;
  CLI::App* check_;
  CLI::App* backup_;
  std::string backup_file_;
  std::string from_;
  std::string to_;
};

}  // namespace apm
