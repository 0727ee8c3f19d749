#include "server/health_command.h"

#include <iostream>

namespace apm {

std::string LocalHealthUrl(const Config& config) {
  const std::string& listen = config.Listen;
  size_t colon = listen.rfind(':');
  std::string host = listen.substr(0, colon);
  std::string port = colon == std::string::npos ? "" : listen.substr(colon + 1);
  bool tls = !config.TlsCertificateFile.empty();
  if (host.empty() || host == "0.0.0.0" || host == "[::]" || host == "::") host = "127.0.0.1";
  return std::string(tls ? "https://" : "http://") + host + ":" + port + "/healthz";
}

HealthCommand::HealthCommand(CLI::App& app) {
  command_ = app.add_subcommand(
      "healthcheck", "exit 0 when the server on this machine answers /healthz (for containers)");
  command_->add_option("--url", url_,
                       "ask this address instead (e.g. https://apm.contoso.com/healthz)");
}

int HealthCommand::Run(const Config& config, OutboundHttp& http) const {
  OutboundRequest request;
  request.url = url_.empty() ? LocalHealthUrl(config) : url_;
  request.timeout = std::chrono::seconds(5);
  Result<OutboundResponse> answer = http.Send(request);
  if (!answer.ok()) {
    std::cerr << "apm-server healthcheck: " << request.url << ": " << answer.status().message()
              << "\n";
    return 1;
  }
  if (answer->status != 200) {
    std::cerr << "apm-server healthcheck: " << request.url << " answered " << answer->status
              << "\n";
    return 1;
  }
  return 0;
}

}  // namespace apm
