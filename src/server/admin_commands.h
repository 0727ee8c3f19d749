// The admin commands of apm-server: `hash decode` and `request list|show|approve|reject`.
// They work on the store of the configured data directory, beside or without a running server.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "server/clock.h"
#include "server/config.h"
#include "server/store/request_store.h"
#include "server/store/sql_request_store.h"

namespace apm {

class AdminCommands {
 public:
  // Registers the commands and their options on `app`.
  explicit AdminCommands(CLI::App& app);

  bool hash_chosen() const { return decode_->parsed(); }
  bool request_chosen() const { return request_->parsed(); }

  // `hash decode`: prints the fields of a hardware hash as JSON; the exit code.
  int RunHash() const;
  // `request ...` on the store of `config` (already validated); the exit code.
  int RunRequest(const Config& config);

 private:
  // `request import-csv FILE`: prints what each row became as JSON.
  int ImportCsv(const Config& config, SqlRequestStore& store, const Clock& clock);

  CLI::App* decode_;
  CLI::App* request_;
  CLI::App* list_;
  CLI::App* show_;
  CLI::App* reject_;
  CLI::App* approve_;
  CLI::App* import_csv_;
  std::string csv_path_;
  std::string hash_source_;
  std::string state_filter_;
  int limit_ = 50;
  std::string request_id_;
  std::string reason_ = "Rejected by an administrator";
  std::vector<std::string> approve_ids_;
  Approval approval_;
  bool group_tag_given_ = false;
};

}  // namespace apm
