// apm.toml as an admin may write it (and APM_* variables beside it): every input loads or is
// refused with a message naming the setting, never a crash.
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "fuzz_input.h"
#include "server/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The first line may name one variable: APM_SOMETHING=value.
  std::vector<std::string> f = apm::fuzz::Fields(data, size, 2);
  std::map<std::string, std::string> env;
  if (size_t eq = f[0].find('='); eq != std::string::npos && f[0].starts_with("APM_")) {
    env[f[0].substr(0, eq)] = f[0].substr(eq + 1);
  }
  static const std::string path = "/tmp/apm-config-fuzz-" + std::to_string(getpid()) + ".toml";
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      << std::string_view(reinterpret_cast<const char*>(data), size);
  apm::Result<apm::Config> config = apm::LoadConfig(path, env);
  if (!config.ok() && config.status().message().empty()) std::abort();  // says what is wrong
  return 0;
}
