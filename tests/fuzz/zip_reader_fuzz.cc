// ReadStoredZip reads what devices upload to the server: never crash, never read past the input,
// and what it reads (with names the writer takes) writes back to an archive that reads the same.
#include <chrono>
#include <cstdlib>

#include "core/zip_reader.h"
#include "core/zip_writer.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string zip(apm::fuzz::Bytes(data, size));
  apm::Result<std::vector<apm::StoredZipEntry>> read = apm::ReadStoredZip(zip);
  if (!read.ok()) return 0;
  std::vector<apm::ZipEntry> entries;
  for (const apm::StoredZipEntry& e : *read) entries.push_back({e.name, std::string(e.bytes)});
  apm::Result<std::string> written = apm::ZipStored(entries, std::chrono::system_clock::now());
  if (!written.ok()) return 0;  // a name the writer does not make (the reader need not refuse it)
  apm::Result<std::vector<apm::StoredZipEntry>> again = apm::ReadStoredZip(*written);
  if (!again.ok() || again->size() != read->size()) std::abort();
  for (size_t i = 0; i < read->size(); ++i) {
    if ((*again)[i].name != (*read)[i].name || (*again)[i].bytes != (*read)[i].bytes) std::abort();
  }
  return 0;
}
