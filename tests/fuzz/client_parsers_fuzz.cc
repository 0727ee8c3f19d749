// What the client reads from the network and from files: an SNTP answer, an HTTP Date header,
// a status answer from the server, an OA3Tool report, a server URL and its command line.
#include <cstdlib>

#include "client/checks.h"
#include "client/hardware_probe.h"
#include "client/options.h"
#include "client/server_api.h"
#include "client/server_url.h"
#include "core/http_date.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(apm::fuzz::Bytes(data, size));
  (void)apm::client::ParseSntpAnswer(text);
  (void)apm::ParseHttpDate(text);
  (void)apm::client::ParseRequestStatus(text);
  (void)apm::client::HashFromOa3Report(text);
  for (bool allow_http : {false, true}) {
    apm::Result<std::string> url = apm::client::NormalizeServerUrl(text, allow_http);
    // A normalised URL is a fixed point.
    if (url.ok()) {
      apm::Result<std::string> again = apm::client::NormalizeServerUrl(*url, allow_http);
      if (!again.ok() || *again != *url) std::abort();
    }
  }
  (void)apm::client::JoinLocation("https://apm.contoso.example/base/", text);
  std::vector<std::string> args = apm::fuzz::Fields(data, size, 8);
  (void)apm::client::ParseOptions(args);
  return 0;
}
