// apm-tenant-sim: a simulator of the Entra ID and Microsoft Graph endpoints apm-server uses,
// so everything runs and is tested where no tenant is reachable.
#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <csignal>
#include <fstream>
#include <iostream>
#include <sstream>

#include "server/http/http_server.h"
#include "server/logging.h"
#include "tenantsim/client_assertion.h"
#include "tenantsim/graph_model.h"
#include "tenantsim/identity.h"
#include "tenantsim/oidc_provider.h"
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
  std::string certificate_file;
  app.add_option("--client-certificate", certificate_file,
                 "PEM file with the app's certificate: client assertions signed with its key are "
                 "accepted on the token endpoint")
      ->check(CLI::ExistingFile);

  // Sign-in (OpenID Connect) for apm-server's app.
  std::vector<std::string> redirect_uris, post_logout_uris, user_specs;
  bool auto_login = false, no_group_claims = false;
  size_t group_overage_limit = 200;
  std::string public_url;
  app.add_option("--redirect-uri", redirect_uris,
                 "a redirect URI registered for the app, matched exactly (repeatable)");
  app.add_option("--post-logout-redirect-uri", post_logout_uris,
                 "an extra URI logout may return to besides the redirect URIs (repeatable)");
  app.add_flag("--auto-login", auto_login,
               "authorize with a login_hint naming a test user signs in at once, without the "
               "picker page (automated tests)");
  app.add_flag("--no-group-claims", no_group_claims, "id_tokens carry no groups claim");
  app.add_option("--group-overage-limit", group_overage_limit,
                 "users in more groups get _claim_names/_claim_sources instead of groups")
      ->capture_default_str();
  app.add_option("--user", user_specs,
                 "a test user \"upn|Display Name|group1,group2\" (repeatable; groups by name, "
                 "created when missing); default: approver@, user@, viewer@, nogroups@ and "
                 "overage@ of the tenant domain");
  app.add_option("--public-url", public_url,
                 "scheme://host:port for the issuer and sign-in URLs instead of the Host each "
                 "request came under");

  apm::sim::SimConfig config;
  std::vector<std::string> other_tenant, registered;
  app.add_flag("--admin", config.admin_enabled,
               "enable the inspection routes /_sim/stats, /_sim/devices, /_sim/users, /_sim/reset, "
               "/_sim/config, /_sim/rotate-signing-key");
  app.add_option("--seed", config.seed, "seed of the fault generator and of generated ids")
      ->capture_default_str();
  app.add_option("--import-delay-ms", config.import_delay_ms,
                 "milliseconds an import stays \"unknown\" before complete or error")
      ->capture_default_str();
  app.add_option("--sync-visible-delay-ms", config.sync_visible_delay_ms,
                 "milliseconds after completion until the windowsAutopilotDeviceIdentity exists "
                 "(without azureActiveDirectoryDeviceId)")
      ->capture_default_str();
  app.add_option("--sync-delay-ms", config.sync_delay_ms,
                 "milliseconds after completion until the identity carries "
                 "azureActiveDirectoryDeviceId and the Entra device exists")
      ->capture_default_str();
  app.add_option("--profile-delay-ms", config.profile_delay_ms,
                 "milliseconds after the Entra device joins the profile group until "
                 "deploymentProfileAssignmentStatus is assignedInSync")
      ->capture_default_str();
  app.add_option("--other-tenant-serial", other_tenant,
                 "serial registered to another tenant: its import ends in 808 (repeatable)");
  app.add_option("--registered-serial", registered,
                 "serial already registered in this tenant: its import ends in 806 (repeatable)");
  app.add_option("--profile-group-id", config.profile_group_id,
                 "object id of the group that gets devices their Autopilot profile")
      ->capture_default_str();
  app.add_option("--profile-group-name", config.profile_group_name, "that group's displayName")
      ->capture_default_str();
  app.add_option("--write-limit", config.write_limit,
                 "POST/PUT/PATCH/DELETE per app per throttle window; 0 = unlimited")
      ->capture_default_str();
  app.add_option("--request-limit", config.request_limit,
                 "requests of any method per app per throttle window; 0 = unlimited")
      ->capture_default_str();
  app.add_option("--directory-write-limit", config.directory_write_limit,
                 "writes per app per window to devices, groups and users; 0 = unlimited")
      ->capture_default_str();
  app.add_option("--directory-request-limit", config.directory_request_limit,
                 "requests per app per window to devices, groups and users; 0 = unlimited")
      ->capture_default_str();
  app.add_option("--throttle-window-ms", config.throttle_window_ms,
                 "length of the sliding throttle window, milliseconds")
      ->capture_default_str();
  app.add_option("--error-rate", config.error_rate,
                 "share (0..1) of Graph requests answered 500 or 503 without effect")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--lost-response-rate", config.lost_response_rate,
                 "share (0..1) of Graph requests applied but answered by dropping the connection")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--drop-rate", config.drop_rate,
                 "share (0..1) of Graph requests whose connection is dropped before any effect")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--slow-rate", config.slow_rate,
                 "share (0..1) of Graph requests answered after --slow-ms")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--slow-ms", config.slow_ms, "delay of a slow answer, milliseconds")
      ->capture_default_str();
  app.add_option("--page-size", config.page_size, "items per page of every list")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--max-import-batch", config.max_import_batch,
                 "records per importedWindowsAutopilotDeviceIdentities/import call (more: 400)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--sync-cooldown-ms", config.sync_cooldown_ms,
                 "windowsAutopilotSettings/sync answers 429 within this many milliseconds of "
                 "the previous sync")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  config.other_tenant_serials.insert(other_tenant.begin(), other_tenant.end());
  config.registered_serials.insert(registered.begin(), registered.end());

  std::string certificate_pem;
  if (!certificate_file.empty()) {
    std::ifstream in(certificate_file, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    certificate_pem = text.str();
    if (apm::Status s = apm::sim::CheckCertificatePem(certificate_pem); !s.ok()) {
      std::cerr << "apm-tenant-sim: --client-certificate " << certificate_file << ": "
                << s.message() << "\n";
      return 1;
    }
  }

  std::vector<apm::sim::TestUserSpec> users;
  for (const std::string& text : user_specs) {
    apm::Result<apm::sim::TestUserSpec> spec = apm::sim::ParseTestUserSpec(text);
    if (!spec.ok()) {
      std::cerr << "apm-tenant-sim: --user " << text << ": " << spec.status().message() << "\n";
      return 1;
    }
    users.push_back(std::move(*spec));
  }
  if (users.empty()) users = apm::sim::DefaultTestUsers(tenant_domain);

  apm::InitLogging("text", "info");
  apm::SystemClock clock;
  apm::sim::Identity identity(clock, tenant_id, tenant_domain);
  apm::sim::SimApp sim_app;
  sim_app.client_id = client_id;
  sim_app.client_secret = client_secret;
  sim_app.roles = {"DeviceManagementServiceConfig.ReadWrite.All", "Device.Read.All",
                   "GroupMember.ReadWrite.All"};
  sim_app.certificate_pem = certificate_pem;
  sim_app.redirect_uris = redirect_uris;
  sim_app.post_logout_redirect_uris = post_logout_uris;
  sim_app.auto_login = auto_login;
  sim_app.group_claims = !no_group_claims;
  identity.AddApp(sim_app);
  apm::sim::GraphModel model(clock, config);
  apm::sim::SimHandler handler(identity, model, clock);
  apm::sim::OidcProvider& oidc = handler.oidc();
  oidc.set_group_overage_limit(group_overage_limit);
  oidc.set_public_base_url(public_url);
  oidc.signing_keys().CurrentKid();  // the first key now, not in the first sign-in
  // One line per user, for scripts that configure apm-server's security groups from the ids.
  for (const apm::sim::TestUserSpec& spec : users) {
    apm::sim::TestUser u = oidc.AddTestUser(spec);
    std::cout << "test user upn=" << u.upn << " oid=" << u.oid << " groups=";
    for (size_t i = 0; i < u.groups.size(); ++i) {
      std::cout << (i ? "," : "") << u.groups[i].first << ":" << u.groups[i].second;
    }
    std::cout << "\n";
  }
  std::cout.flush();
  apm::HttpServerOptions options;
  options.listen = listen;
  options.max_body_bytes =
      4 * 1024 * 1024;  // Graph takes bodies up to 4 MB (imports of 20+ hashes)
  apm::HttpServer server(options, handler, nullptr);
  boost::asio::io_context signals_io;
  boost::asio::signal_set signals(signals_io, SIGINT, SIGTERM);
  if (apm::Status s = server.Start(); !s.ok()) {
    std::cerr << "apm-tenant-sim: " << s.message() << "\n";
    return 1;
  }
  apm::LogInfo("listening", {{"address", listen.substr(0, listen.rfind(':')) + ":" +
                                             std::to_string(server.port())},
                             {"tenant", tenant_id},
                             {"profile_group", model.profile_group_id()},
                             {"admin", config.admin_enabled}});
  apm::FlushLogs();
  signals.async_wait([](boost::system::error_code, int) {});
  signals_io.run();
  server.Shutdown();
  return 0;
}
