// `apm-server setup entra`: prepares the tenant for apm-server in one command (the admin signs
// in with the device code flow) and writes the configuration; `--dry-run` only tells what it
// would change. See tenant_setup.h for what it sets up.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "server/config.h"
#include "server/setup/tenant_setup.h"

namespace apm {

class SetupCommand {
 public:
  explicit SetupCommand(CLI::App& app);
  bool chosen() const { return entra_->parsed(); }
  // `config_path` is the --config file ("" when none): the settings are written there unless
  // --write-config names another file.
  int Run(const Config& config, const std::string& config_path) const;

 private:
  CLI::App* setup_;
  CLI::App* entra_;
  bool dry_run_ = false;
  bool certificate_ = false;
  std::string tenant_;
  std::string write_config_;
  std::string env_file_;
  SetupOptions options_;
};

}  // namespace apm
