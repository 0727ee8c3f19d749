// `apm-server doctor [--json]`: runs the doctor's checks once and prints what it found; the exit
// code is 1 when a check failed.
#pragma once

#include <CLI/CLI.hpp>

#include "server/config.h"

namespace apm {

class DoctorCommand {
 public:
  explicit DoctorCommand(CLI::App& app);
  bool chosen() const { return command_->parsed(); }
  int Run(const Config& config) const;

 private:
  CLI::App* command_;
  bool json_ = false;
};

}  // namespace apm
