// Running another program to completion (osslsigncode, at start-up only): its exit code and
// what it printed. Behind an interface so callers are tested without the program.
#pragma once

#include <chrono>
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

// posix_spawnp with stdin from /dev/null and a pipe for the output. A program still running
// after `timeout` is killed and the run is an error. Errors: kNotFound when the program is not
// installed, kUnavailable after a timeout, kInternal otherwise.
class PosixProgramRunner : public ProgramRunner {
 public:
  explicit PosixProgramRunner(std::chrono::seconds timeout = std::chrono::seconds(60))
      : timeout_(timeout) {}
  Result<ProgramOutcome> Run(const std::vector<std::string>& argv) override;

 private:
  std::chrono::seconds timeout_;
};

}  // namespace apm
