// apm-tenant-sim: a simulator of the Entra ID and Microsoft Graph endpoints apm-server uses,
// so everything runs and is tested where no tenant is reachable.
#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <csignal>
#include <iostream>

#include "server/http/http_server.h"
#include "server/logging.h"
#include "tenantsim/identity.h"
#include "tenantsim/sim_handler.h"

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App app{"Autopilot Manager tenant simulator (Entra ID and Microsoft Graph)"};
  app.set_version_flag("--version", std::string("apm-tenant-sim ") + APM_VERSION);
  std::string listen = "127.0.0.1:9090";
  std::string tenant_id = "00000000-0000-4000-8000-000000000001";
  std::string tenant_domain = "contoso.example";
  std::string client_id = "11111111-1111-4111-8111-111111111111";
  std::string client_secret = "simulator-secret";
  app.add_option("--listen", listen, "ADDRESS:PORT to listen on");
  app.add_option("--tenant-id", tenant_id, "the simulated tenant's id");
  app.add_option("--tenant-domain", tenant_domain, "the simulated tenant's domain");
  app.add_option("--client-id", client_id, "application (client) id of apm-server's app");
  app.add_option("--client-secret", client_secret, "its client secret");
  CLI11_PARSE(app, argc, argv);

  apm::InitLogging("text", "info");
  apm::SystemClock clock;
  apm::sim::Identity identity(clock, tenant_id, tenant_domain);
  identity.AddApp({client_id,
                   client_secret,
                   {"DeviceManagementServiceConfig.ReadWrite.All", "Device.Read.All",
                    "GroupMember.ReadWrite.All"}});
  apm::sim::SimHandler handler(identity, clock);
  apm::HttpServerOptions options;
  options.listen = listen;
  apm::HttpServer server(options, handler, nullptr);
  boost::asio::io_context signals_io;
  boost::asio::signal_set signals(signals_io, SIGINT, SIGTERM);
  if (apm::Status s = server.Start(); !s.ok()) {
    std::cerr << "apm-tenant-sim: " << s.message() << "\n";
    return 1;
  }
  apm::LogInfo("listening", {{"address", listen.substr(0, listen.rfind(':')) + ":" +
                                             std::to_string(server.port())},
                             {"tenant", tenant_id}});
  apm::FlushLogs();
  signals.async_wait([](boost::system::error_code, int) {});
  signals_io.run();
  server.Shutdown();
  return 0;
}
