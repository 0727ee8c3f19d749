// Running another program to completion (osslsigncode, at start-up only): its exit code and
// what it printed. Behind an interface so callers are tested without the program.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"

namespace apm {

struct ProgramOutcome {
  int exit_code = -1;  // -1: killed by a signal
  std::string output;  // stdout and stderr together, at most 64 KiB
};

class ProgramRunner {
 public:
  virtual ~ProgramRunner() = default;
  // argv[0] is looked up in PATH. An error when it cannot be started at all (not installed).
  virtual Result<ProgramOutcome> Run(const std::vector<std::string>& argv) = 0;
};

// posix_spawnp with stdin from /dev/null and a pipe for the output.
class PosixProgramRunner : public ProgramRunner {
 public:
  Result<ProgramOutcome> Run(const std::vector<std::string>& argv) override;
};

}  // namespace apm
