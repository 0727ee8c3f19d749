// apm.toml as an admin may write it (and an APM_* variable beside it): every input loads or is
// refused with a message saying why, never a crash.
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "fuzz_input.h"
#include "server/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // A first line APM_SOMETHING=value is one variable and the rest the file; else all is file.
  std::vector<std::string> f = apm::fuzz::Fields(data, size, 2);
  std::map<std::string, std::string> env;
  std::string_view toml = apm::fuzz::Bytes(data, size);
  if (size_t eq = f[0].find('='); eq != std::string::npos && f[0].starts_with("APM_")) {
    env[f[0].substr(0, eq)] = f[0].substr(eq + 1);
    toml = f[1];
  }
  static const std::string path = "/tmp/apm-config-fuzz-" + std::to_string(getpid()) + ".toml";
  std::ofstream(path, std::ios::binary | std::ios::trunc) << toml;
  apm::Result<apm::Config> config = apm::LoadConfig(path, env);
  if (!config.ok() && config.status().message().empty()) std::abort();  // says what is wrong
  return 0;
}
