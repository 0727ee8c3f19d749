// The ap.exe the server serves: the configured file as it is, or a copy Authenticode-signed at
// start-up with Debian's osslsigncode when ClientSigningCertificateFile is set (never per
// request); and the SHA-256 of what is served, which the home page shows.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "server/config.h"
#include "server/program_runner.h"

namespace apm {

struct ServedClient {
  std::string path;    // the file /ap.exe serves; "" when there is none to serve
  std::string sha256;  // lower-case hex of that file; "" when there is none
  bool signed_here = false;
};

// The osslsigncode command that signs `in` into `out` with the configured certificate and key.
std::vector<std::string> SigningCommand(const Config& config, const std::string& in,
                                        const std::string& out);

// Signs ClientWindowsBinary into DataDir/clients/ap.exe when signing is configured (an error
// when that fails: an admin who asked for a signed client must not be given an unsigned one),
// and hashes the file to be served. A missing ClientWindowsBinary without signing is no error:
// /ap.exe answers 404 as before.
Result<ServedClient> PrepareWindowsClient(const Config& config, ProgramRunner& runner);

}  // namespace apm
