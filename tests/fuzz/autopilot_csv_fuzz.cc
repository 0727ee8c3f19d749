// A reseller's CSV as anyone may have made it (UTF-16 or UTF-8, any bytes): it is read or
// refused with a reason, never a crash; every row it returns is either readable or says why not,
// and its line numbers rise.
#include <cstdlib>

#include "core/autopilot_csv.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  apm::Result<std::vector<apm::AutopilotCsvRow>> rows =
      apm::ParseAutopilotCsv(apm::fuzz::Bytes(data, size));
  if (!rows.ok()) {
    if (rows.status().message().empty()) std::abort();
    return 0;
  }
  int line = 1;
  for (const apm::AutopilotCsvRow& row : *rows) {
    if (row.line <= line) std::abort();
    line = row.line;
    bool readable = !row.serial_number.empty() && !row.hardware_hash.empty();
    if (row.error.empty() != readable) std::abort();
  }
  return 0;
}
