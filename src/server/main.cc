// apm-server: the Autopilot Manager web service, and a few admin commands on its store.
#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <csignal>
#include <functional>
#include <iostream>

#include "server/admin_commands.h"
#include "server/config.h"
#include "server/db_commands.h"
#include "server/doctor/doctor_command.h"
#include "server/health_command.h"
#include "server/http/curl_outbound_http.h"
#include "server/logging.h"
#include "server/server_app.h"
#include "server/setup/setup_command.h"
#include "server/systemd_notify.h"

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App app{"Autopilot Manager server"};
  app.set_version_flag("--version", std::string("apm-server ") + APM_VERSION);
  std::string config_path, listen, data_dir;
  app.add_option("--config", config_path, "TOML settings file (apm.toml)")
      ->check(CLI::ExistingFile);
  app.add_option("--listen", listen, "ADDRESS:PORT to listen on (overrides Listen)");
  app.add_option("--data-dir", data_dir, "directory of the SQLite database (overrides DataDir)");
  app.fallthrough();

  apm::AdminCommands admin(app);
  apm::DbCommands db(app);
  apm::HealthCommand health(app);
  apm::DoctorCommand doctor(app);
  apm::SetupCommand setup(app);

  CLI11_PARSE(app, argc, argv);

  if (admin.hash_chosen()) return admin.RunHash();

  apm::Result<apm::Config> loaded =
      apm::LoadConfig(config_path, apm::ProcessEnvironment(), /*check=*/false);
  if (!loaded.ok()) {
    std::cerr << "apm-server: configuration error: " << loaded.status().message() << "\n";
    return 2;
  }
  apm::Config config = std::move(loaded).value();
  if (!listen.empty()) config.Listen = listen;
  if (!data_dir.empty()) config.DataDir = data_dir;
  if (!listen.empty()) config.sources["Listen"] = "command line";
  if (!data_dir.empty()) config.sources["DataDir"] = "command line";
  if (admin.request_chosen() || db.chosen() || health.chosen()) {
    // Admin commands and the health check need no Graph credentials (often only in the
    // service's environment).
    config.TenantId.clear();
    config.ClientId.clear();
    config.ClientSecret.clear();
    config.ClientCertificateFile.clear();
    config.ClientPrivateKeyFile.clear();
    // Nor do they send what the service sends (whose secrets are in its environment too).
    config.UseLogAnalytics = false;
    config.NotificationWebhookUrl.clear();
    config.NotificationTeamsUrl.clear();
    // Nor do they sign anyone in: with ClientId cleared, a sign-in that takes its app from
    // ClientId would be refused as incomplete (and its secret is in the service's environment).
    config.SignInAuthority.clear();
    config.SignInClientId.clear();
    config.SignInClientSecret.clear();
    config.AuthorizationSecurityGroup.clear();
    config.ApproverSecurityGroup.clear();
    config.ViewerSecurityGroup.clear();
  }
  // The set-up writes what validation would ask for (ClientId, the secret): before it.
  if (setup.chosen()) return setup.Run(config, config_path);
  if (apm::Status s = apm::ValidateConfig(config); !s.ok()) {
    std::cerr << "apm-server: configuration error: " << s.message() << "\n";
    return 2;
  }

  if (doctor.chosen()) return doctor.Run(config);
  if (admin.request_chosen()) return admin.RunRequest(config);
  if (db.chosen()) return db.Run(config);
  if (health.chosen()) {
    apm::CurlOutboundHttp::Options options;
    options.verify_peer = health.VerifiesPeer();
    apm::CurlOutboundHttp http(options);
    return health.Run(config, http);
  }

  apm::InitLogging(config.LogFormat, config.LogLevel);
  // Signals are caught from before start-up, so an early SIGTERM still shuts down cleanly.
  boost::asio::io_context signals_io;
  boost::asio::signal_set signals(signals_io, SIGINT, SIGTERM, SIGHUP);
  apm::ServerApp server(config);
  if (apm::Status s = server.Start(); !s.ok()) {
    apm::LogError("start-up failed", {{"error", s.message()}});
    std::cerr << "apm-server: " << s.message() << "\n";
    return 1;
  }
  // SIGHUP reloads the TLS certificate (as nginx does); SIGINT and SIGTERM stop.
  std::function<void(boost::system::error_code, int)> on_signal = [&](boost::system::error_code ec,
                                                                      int sig) {
    if (ec) return;
    if (sig == SIGHUP) {
      server.ReloadTls("SIGHUP");
      signals.async_wait(on_signal);
      return;
    }
    apm::LogInfo("signal received", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
  };
  signals.async_wait(on_signal);
  // A unit with Type=notify: `systemctl start` returns now, when requests are served.
  if (apm::Status s = apm::NotifySystemd("READY=1\nSTATUS=serving"); !s.ok()) {
    apm::LogWarn("systemd not told that the server is ready", {{"error", s.message()}});
  }
  signals_io.run();
  (void)apm::NotifySystemd("STOPPING=1");
  server.Shutdown();
  return 0;
}
