// Error bodies from Graph and Intune (JSON, Intune's nested message text, HTML from a proxy):
// every one becomes a GraphError and a Status without a crash.
#include "fuzz_input.h"
#include "server/graph/graph_error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body = apm::fuzz::Bytes(data, size);
  std::vector<std::string> f = apm::fuzz::Fields(data, size, 2);  // Retry-After, then the body
  for (int status : {400, 403, 404, 409, 429, 500, 503}) {
    apm::GraphError e = apm::ParseGraphError(status, body, std::nullopt);
    (void)apm::ParseGraphError(status, f[1], f[0]);
    (void)apm::IsRetryable(e);
    (void)apm::ToStatus(e);
  }
  if (size >= 2) {
    int code = int(data[0]) << 8 | data[1];
    (void)apm::DescribeDdsError(code, body.substr(2));
  }
  return 0;
}
