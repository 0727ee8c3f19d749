#include "server/db_commands.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>

#include "server/store/sql_copy.h"
#include "server/store/sqlite_backup.h"
#include "server/store/sqlite_connection.h"
#include "server/store/sqlite_integrity.h"

namespace apm {

Result<std::unique_ptr<SqlRequestStore>> OpenConfiguredStore(const Config& config, bool migrate) {
  SqlConnector connect =
      config.DatabaseUrl.empty()
          ? SqliteConnector((std::filesystem::path(config.DataDir) / "apm.db").string())
          : PgConnector(
                {.url = config.DatabaseUrl,
                 .statement_timeout_ms = int(config.DatabaseStatementTimeoutSeconds * 1000)});
  return SqlRequestStore::OpenWith(std::move(connect), {.max_readers = 2}, migrate);
}

DbCommands::DbCommands(CLI::App& app) {
  db_ = app.add_subcommand("db", "database maintenance");
  migrate_ =
      db_->add_subcommand("migrate",
                          "bring the configured database (DatabaseUrl, or DataDir/apm.db) to this "
                          "apm-server's schema version");
  copy_ = db_->add_subcommand(
      "copy", "copy a stopped SQLite installation into an empty PostgreSQL database");
  copy_->add_option("--from", from_, "the SQLite file (DataDir/apm.db)")
      ->required()
      ->check(CLI::ExistingFile);
  copy_->add_option("--to", to_,
                    "the PostgreSQL database (a URI or key=value string; default: "
                    "APM_DATABASE_URL / DatabaseUrl)");
  check_ = db_->add_subcommand(
      "check",
      "run SQLite's full integrity check on DataDir/apm.db (also while the server runs); exit "
      "1 and list the problems when it fails");
  db_->require_subcommand(1);
  backup_ = app.add_subcommand(
      "backup", "write a consistent copy of the SQLite store to FILE, also while serving");
  backup_->add_option("FILE", backup_file_, "the copy to write (must not exist yet)")->required();
}

int DbCommands::Run(const Config& config) {
  if (backup_->parsed()) return Backup(config);
  if (check_->parsed()) return Check(config);
  return migrate_->parsed() ? Migrate(config) : Copy(config);
}

int DbCommands::Backup(const Config& config) {
  if (!config.DatabaseUrl.empty()) {
    std::cerr << "apm-server: backup copies the SQLite store; for PostgreSQL use pg_dump or the "
                 "service's backups (docs/deployment.md#backup-and-restore)\n";
    return 2;
  }
  std::string from = (std::filesystem::path(config.DataDir) / "apm.db").string();
  Result<BackupReport> report = BackupSqliteDatabase(from, backup_file_);
  if (!report.ok()) {
    std::cerr << "apm-server: backup failed: " << report.status().message() << "\n";
    return 1;
  }
  std::cout << "backup of " << from << " written to " << backup_file_ << ": " << report->requests
            << " requests, " << report->bytes << " bytes\n";
  return 0;
}

int DbCommands::Check(const Config& config) {
  if (!config.DatabaseUrl.empty()) {
    std::cerr << "apm-server: db check runs SQLite's integrity check; PostgreSQL checks its own "
                 "pages (data checksums; the amcheck extension for indexes)\n";
    return 2;
  }
  std::string path = (std::filesystem::path(config.DataDir) / "apm.db").string();
  Result<std::vector<std::string>> problems = CheckSqliteIntegrity(path, IntegrityDepth::kThorough);
  if (!problems.ok()) {
    std::cerr << "apm-server: " << problems.status().message() << "\n";
    return 2;
  }
  if (problems->empty()) {
    std::cout << path << ": ok (SQLite integrity_check found nothing wrong)\n";
    return 0;
  }
  std::cout << path << ": " << problems->size() << " problem(s):\n";
  for (const std::string& p : *problems) std::cout << "  " << p << "\n";
  std::cout << "Restore the latest backup (docs/deployment.md, \"Backup and restore\").\n";
  return 1;
}

int DbCommands::Migrate(const Config& config) {
  auto store = OpenConfiguredStore(config, /*migrate=*/true);
  if (!store.ok()) {
    std::cerr << "apm-server: " << store.status().message() << "\n";
    return 1;
  }
  std::cout << "database at schema version " << (*store)->schema_version() << "\n";
  return 0;
}

int DbCommands::Copy(const Config& config) {
  std::string to = to_.empty() ? config.DatabaseUrl : to_;
  if (to.empty() || !IsPostgresUrl(to)) {
    std::cerr << "apm-server: db copy needs the target: --to postgresql://… or APM_DATABASE_URL\n";
    return 2;
  }
  // A server writing the source meanwhile would lose what it accepts after the copy.
  std::string lock_path = (std::filesystem::path(from_).parent_path() / "apm.lock").string();
  int lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd < 0 || ::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    std::cerr << "apm-server: an apm-server is using " << from_ << "; stop it before copying\n";
    if (lock_fd >= 0) ::close(lock_fd);
    return 1;
  }
  // Both at this binary's schema: the source is migrated if older, the target created.
  auto source = SqlRequestStore::Open(from_);
  if (!source.ok()) {
    std::cerr << "apm-server: " << from_ << ": " << source.status().message() << "\n";
    return 1;
  }
  source->reset();
  auto target = SqlRequestStore::OpenPostgres({.url = to}, {.max_readers = 1});
  if (!target.ok()) {
    std::cerr << "apm-server: target: " << target.status().message() << "\n";
    return 1;
  }
  target->reset();
  auto from = SqliteConnection::Open(from_);
  auto into = PgConnection::Open({.url = to, .statement_timeout_ms = 3'600'000});
  if (!from.ok() || !into.ok()) {
    std::cerr << "apm-server: " << (from.ok() ? into.status().message() : from.status().message())
              << "\n";
    return 1;
  }
  Result<CopyReport> report = CopyDatabase(**from, **into);
  ::close(lock_fd);
  if (!report.ok()) {
    std::cerr << "apm-server: copy failed, nothing was written: " << report.status().message()
              << "\n";
    return 1;
  }
  for (const auto& [table, rows] : report->rows) {
    std::cout << table << ": " << rows << " rows copied, counts match\n";
  }
  return 0;
}

}  // namespace apm
