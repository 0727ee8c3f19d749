// `apm-server healthcheck`: asks the server running on this machine for /healthz and exits 0
// when it serves. Images have no curl; this is their HEALTHCHECK and exec probe.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "server/config.h"
#include "server/http/outbound_http.h"

namespace apm {

// The address the check asks: Listen's port on loopback (or Listen's own host when it names
// one), https when the server has a certificate (whatever names it: see VerifiesPeer).
std::string LocalHealthUrl(const Config& config);

class HealthCommand {
 public:
  explicit HealthCommand(CLI::App& app);
  bool chosen() const { return command_->parsed(); }
  // The exit code: 0 when /healthz answered 200, 1 otherwise (with the reason on stderr).
  int Run(const Config& config, OutboundHttp& http) const;
  // Whether the server's certificate is checked: for a given --url, yes; asking this
  // machine's own server on loopback, no (its certificate names the public host, and the
  // check sends nothing secret).
  bool VerifiesPeer() const { return !url_.empty(); }

 private:
  CLI::App* command_;
  std::string url_;
};

}  // namespace apm
