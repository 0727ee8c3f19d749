#include "server/graph_settings.h"

namespace apm {

AppCredentials GraphCredentials(const Config& config) {
  AppCredentials credentials;
  credentials.login_endpoint = config.LoginEndpoint;
  credentials.tenant = config.TenantId;
  credentials.client_id = config.ClientId;
  credentials.client_secret = config.ClientSecret;
  credentials.certificate_file = config.ClientCertificateFile;
  credentials.private_key_file = config.ClientPrivateKeyFile;
  return credentials;
}

GraphClient::Options GraphClientOptions(const Config& config) {
  GraphClient::Options options;
  options.endpoint = config.GraphEndpoint;
  options.intune_limits.writes_per_window = int(config.GraphWritesPer20Seconds);
  options.intune_limits.requests_per_window = int(config.GraphRequestsPer20Seconds);
  return options;
}

}  // namespace apm
