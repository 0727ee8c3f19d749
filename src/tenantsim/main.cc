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

namespace {

// The machine's clock, moved by --clock-skew-seconds.
struct SkewedClock : apm::Clock {
  explicit SkewedClock(int64_t offset_ms) : offset_ms(offset_ms) {}
  int64_t NowMs() const override { return system.NowMs() + offset_ms; }
  apm::SystemClock system;
  int64_t offset_ms;
};

// Everything the command line sets.
struct SimOptions {
  std::string listen = "127.0.0.1:9090";
  std::string tenant_id = "00000000-0000-4000-8000-000000000001";
  std::string tenant_domain = "contoso.example";
  std::string client_id = "11111111-1111-4111-8111-111111111111";
  std::string client_secret = "simulator-secret";
  std::string certificate_file;
  std::vector<std::string> redirect_uris;
  std::vector<std::string> post_logout_uris;
  std::vector<std::string> user_specs;
  std::vector<std::string> app_roles = {"DeviceManagementServiceConfig.ReadWrite.All",
                                        "DeviceManagementManagedDevices.ReadWrite.All",
                                        "Device.Read.All", "GroupMember.ReadWrite.All"};
  bool auto_login = false;
  bool client_secret_expired = false;
  int64_t client_secret_end_days = 180;
  int64_t clock_skew_seconds = 0;
  bool no_group_claims = false;
  bool opaque_tokens = false;
  int device_code_interval = 5;
  bool organisation_consented = false;
  int64_t replication_delay_ms = 0;
  size_t group_overage_limit = 200;
  std::string public_url;
  apm::sim::SimConfig config;
  std::vector<std::string> other_tenant;
  std::vector<std::string> registered;
  std::vector<std::string> registered_devices;  // JSON objects
};

// The tenant and apm-server's app registration.
void AddTenantOptions(CLI::App& app, SimOptions& o) {
  app.add_option("--listen", o.listen, "ADDRESS:PORT to listen on");
  app.add_option("--tenant-id", o.tenant_id, "the simulated tenant's id");
  app.add_option("--tenant-domain", o.tenant_domain, "the simulated tenant's domain");
  app.add_option("--client-id", o.client_id, "application (client) id of apm-server's app");
  app.add_option("--client-secret", o.client_secret, "its client secret");
  app.add_option("--client-certificate", o.certificate_file,
                 "PEM file with the app's certificate: client assertions signed with its key are "
                 "accepted on the token endpoint")
      ->check(CLI::ExistingFile);
  app.add_flag("--empty-tenant", o.config.empty_tenant,
               "start as a tenant `apm-server setup entra` has not prepared: no app registration "
               "for apm-server (--client-id and its options are ignored), no profile group, no "
               "deployment profile; test users and their groups exist");
  app.add_flag("--organisation-consented", o.organisation_consented,
               "an administrator consented for everyone to Microsoft Graph Command Line Tools' "
               "scopes: users without an administrator role sign in to it too");
  app.add_option("--replication-delay-ms", o.replication_delay_ms,
                 "milliseconds a new service principal is not yet found by appRoleAssignedTo "
                 "(Graph's replication after a create)")
      ->capture_default_str();
  app.add_option("--device-code-interval", o.device_code_interval,
                 "seconds the device code flow tells clients to wait between polls")
      ->capture_default_str();
}

// Sign-in (OpenID Connect) for apm-server's app.
void AddSignInOptions(CLI::App& app, SimOptions& o) {
  app.add_option("--redirect-uri", o.redirect_uris,
                 "a redirect URI registered for the app, matched exactly (repeatable)");
  app.add_option("--post-logout-redirect-uri", o.post_logout_uris,
                 "an extra URI logout may return to besides the redirect URIs (repeatable)");
  app.add_flag("--auto-login", o.auto_login,
               "authorize with a login_hint naming a test user signs in at once, without the "
               "picker page (automated tests)");
  app.add_flag("--no-group-claims", o.no_group_claims, "id_tokens carry no groups claim");
  app.add_flag("--opaque-tokens", o.opaque_tokens,
               "app-only Graph tokens are random text, not a JWT with the roles claim");
  app.add_option("--group-overage-limit", o.group_overage_limit,
                 "users in more groups get _claim_names/_claim_sources instead of groups")
      ->capture_default_str();
  app.add_option("--user", o.user_specs,
                 "a test user \"upn|Display Name|group1,group2|directory roles\" (repeatable; "
                 "groups by name, created when missing; roles by name, e.g. Global "
                 "Administrator); default: approver@, user@, viewer@, nogroups@, overage@ and "
                 "admin@ (Global Administrator) of the tenant domain");
  app.add_option("--public-url", o.public_url,
                 "scheme://host:port for the issuer and sign-in URLs instead of the Host each "
                 "request came under");
}

// The simulated tenant's behaviour: delays, registered serials, throttling and faults.
// Registrations that exist before the simulation, and how deleting them behaves.
void AddRepairOptions(CLI::App& app, SimOptions& o) {
  app.add_option("--registered-device", o.registered_devices,
                 "a registration made before the simulation, as JSON, e.g. "
                 "'{\"serialNumber\":\"PF3X\",\"groupTag\":\"Kiosk\",\"purchaseOrderIdentifier\":"
                 "\"PO-1\",\"userPrincipalName\":\"a@contoso.com\",\"managedDeviceName\":"
                 "\"DESKTOP-1\"}' (repeatable)");
  app.add_option("--autopilot-delete-delay-ms", o.config.autopilot_delete_delay_ms,
                 "milliseconds a deleted Autopilot record stays visible (deletion is asynchronous)")
      ->capture_default_str();
  app.add_flag("!--import-while-deleting-creates-record", o.config.deleting_record_blocks_import,
               "an import of a serial whose record is still being deleted creates a second "
               "record (by default it ends in 806; which one Microsoft does is not documented)");
  app.add_flag("!--allow-delete-while-managed", o.config.refuse_delete_while_managed,
               "accept the DELETE of an Autopilot record whose Intune managed device remains "
               "(by default it is refused with a 400, a stand-in for the undocumented answer)");
}

void AddModelOptions(CLI::App& app, SimOptions& o) {
  app.add_flag("--admin", o.config.admin_enabled,
               "enable the inspection routes /_sim/stats, /_sim/devices, /_sim/users, /_sim/reset, "
               "/_sim/config, /_sim/rotate-signing-key, /_sim/registrations");
  app.add_option("--seed", o.config.seed, "seed of the fault generator and of generated ids")
      ->capture_default_str();
  app.add_option("--import-delay-ms", o.config.import_delay_ms,
                 "milliseconds an import stays \"unknown\" before complete or error")
      ->capture_default_str();
  app.add_option("--sync-visible-delay-ms", o.config.sync_visible_delay_ms,
                 "milliseconds after completion until the windowsAutopilotDeviceIdentity exists "
                 "(without azureActiveDirectoryDeviceId)")
      ->capture_default_str();
  app.add_option("--sync-delay-ms", o.config.sync_delay_ms,
                 "milliseconds after completion until the identity carries "
                 "azureActiveDirectoryDeviceId and the Entra device exists")
      ->capture_default_str();
  app.add_option("--profile-delay-ms", o.config.profile_delay_ms,
                 "milliseconds after the Entra device joins the profile group until "
                 "deploymentProfileAssignmentStatus is assignedInSync")
      ->capture_default_str();
  app.add_option("--other-tenant-serial", o.other_tenant,
                 "serial registered to another tenant: its import ends in 808 (repeatable)");
  app.add_option("--registered-serial", o.registered,
                 "serial already registered in this tenant: its import ends in 806 (repeatable)");
  app.add_option("--profile-group-id", o.config.profile_group_id,
                 "object id of the group that gets devices their Autopilot profile")
      ->capture_default_str();
  app.add_option("--profile-group-name", o.config.profile_group_name, "that group's displayName")
      ->capture_default_str();
  app.add_flag("--profile-group-dynamic", o.config.profile_group_dynamic,
               "make the profile group a dynamic group (a set-up mistake the doctor names)");
  app.add_flag("!--profile-unassigned", o.config.profile_assigned,
               "the deployment profile targets no group (a set-up mistake the doctor names)");
  app.add_flag("--client-secret-expired", o.client_secret_expired,
               "the client secret is past its end date (AADSTS7000222)");
  app.add_option("--client-secret-end-days", o.client_secret_end_days,
                 "days until the client secret's end date, as /v1.0/applications shows it")
      ->capture_default_str();
  app.add_option("--clock-skew-seconds", o.clock_skew_seconds,
                 "the tenant's clock runs this many seconds ahead of this machine's (negative: "
                 "behind): its Date headers and token times, as a server with a wrong clock "
                 "sees them");
  app.add_option("--app-role", o.app_roles,
                 "an application permission granted to apm-server's app (repeat; default: the "
                 "four it needs)");
  app.add_option("--write-limit", o.config.write_limit,
                 "POST/PUT/PATCH/DELETE per app per throttle window; 0 = unlimited")
      ->capture_default_str();
  app.add_option("--request-limit", o.config.request_limit,
                 "requests of any method per app per throttle window; 0 = unlimited")
      ->capture_default_str();
  app.add_option("--directory-write-limit", o.config.directory_write_limit,
                 "writes per app per window to devices, groups and users; 0 = unlimited")
      ->capture_default_str();
  app.add_option("--directory-request-limit", o.config.directory_request_limit,
                 "requests per app per window to devices, groups and users; 0 = unlimited")
      ->capture_default_str();
  app.add_option("--throttle-window-ms", o.config.throttle_window_ms,
                 "length of the sliding throttle window, milliseconds")
      ->capture_default_str();
  app.add_option("--error-rate", o.config.error_rate,
                 "share (0..1) of Graph requests answered 500 or 503 without effect")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--lost-response-rate", o.config.lost_response_rate,
                 "share (0..1) of Graph requests applied but answered by dropping the connection")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--drop-rate", o.config.drop_rate,
                 "share (0..1) of Graph requests whose connection is dropped before any effect")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--slow-rate", o.config.slow_rate,
                 "share (0..1) of Graph requests answered after --slow-ms")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--slow-ms", o.config.slow_ms, "delay of a slow answer, milliseconds")
      ->capture_default_str();
  app.add_option("--page-size", o.config.page_size, "items per page of every list")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--max-import-batch", o.config.max_import_batch,
                 "records per importedWindowsAutopilotDeviceIdentities/import call (more: 400)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--sync-cooldown-ms", o.config.sync_cooldown_ms,
                 "windowsAutopilotSettings/sync answers 429 within this many milliseconds of "
                 "the previous sync")
      ->capture_default_str();
}

// The certificate file and the test users; false (having said why) when one is wrong.
bool LoadInputs(const SimOptions& o, std::string* certificate_pem_out,
                std::vector<apm::sim::TestUserSpec>* users_out) {
  std::string certificate_pem;
  if (!o.certificate_file.empty()) {
    std::ifstream in(o.certificate_file, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    certificate_pem = text.str();
    if (apm::Status s = apm::sim::CheckCertificatePem(certificate_pem); !s.ok()) {
      std::cerr << "apm-tenant-sim: --client-certificate " << o.certificate_file << ": "
                << s.message() << "\n";
      return false;
    }
  }

  for (const std::string& text : o.registered_devices) {
    nlohmann::json parsed = nlohmann::json::parse(text, nullptr, false);
    apm::Result<apm::sim::RegisteredDeviceSpec> spec = apm::sim::RegisteredDeviceFromJson(parsed);
    if (!spec.ok()) {
      std::cerr << "apm-tenant-sim: --registered-device " << text << ": "
                << (parsed.is_discarded() ? "not valid JSON" : spec.status().message()) << "\n";
      return false;
    }
  }

  std::vector<apm::sim::TestUserSpec> users;
  for (const std::string& text : o.user_specs) {
    apm::Result<apm::sim::TestUserSpec> spec = apm::sim::ParseTestUserSpec(text);
    if (!spec.ok()) {
      std::cerr << "apm-tenant-sim: --user " << text << ": " << spec.status().message() << "\n";
      return false;
    }
    users.push_back(std::move(*spec));
  }
  if (users.empty()) users = apm::sim::DefaultTestUsers(o.tenant_domain);
  *certificate_pem_out = certificate_pem;
  *users_out = std::move(users);
  return true;
}

// Runs the simulator until SIGINT or SIGTERM; the exit code.
int Serve(const SimOptions& o, const std::string& certificate_pem,
          const std::vector<apm::sim::TestUserSpec>& users) {
  apm::InitLogging("text", "info");
  SkewedClock clock(o.clock_skew_seconds * 1000);
  apm::sim::Identity identity(clock, o.tenant_id, o.tenant_domain);
  apm::sim::SimApp sim_app;
  sim_app.client_id = o.client_id;
  sim_app.client_secret = o.client_secret;
  sim_app.roles = o.app_roles;
  sim_app.secret_expired = o.client_secret_expired;
  sim_app.secret_end_ms =
      clock.NowMs() + (o.client_secret_expired ? -1 : o.client_secret_end_days) * 86'400'000;
  sim_app.certificate_pem = certificate_pem;
  sim_app.redirect_uris = o.redirect_uris;
  sim_app.post_logout_redirect_uris = o.post_logout_uris;
  sim_app.auto_login = o.auto_login;
  sim_app.group_claims = !o.no_group_claims;
  sim_app.opaque_tokens = o.opaque_tokens;
  if (!o.config.empty_tenant) identity.AddApp(sim_app);
  // Microsoft's public client every tenant has, which admins sign in to with the device code.
  apm::sim::SimApp graph_cli;
  graph_cli.client_id = apm::sim::kGraphCliAppId;
  graph_cli.display_name = "Microsoft Graph Command Line Tools";
  graph_cli.public_client = true;
  graph_cli.roles = {};
  identity.AddApp(graph_cli);
  apm::sim::GraphModel model(clock, o.config);
  apm::sim::SimHandler handler(identity, model, clock);
  if (o.clock_skew_seconds != 0) handler.DateFromClock();
  apm::sim::OidcProvider& oidc = handler.oidc();
  oidc.set_group_overage_limit(o.group_overage_limit);
  oidc.set_public_base_url(o.public_url);
  oidc.set_device_code_interval(o.device_code_interval);
  oidc.set_organisation_consented(o.organisation_consented);
  identity.set_replication_delay_ms(o.replication_delay_ms);
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
  options.listen = o.listen;
  options.max_body_bytes =
      4 * 1024 * 1024;  // Graph takes bodies up to 4 MB (imports of 20+ hashes)
  apm::HttpServer server(options, handler, nullptr);
  boost::asio::io_context signals_io;
  boost::asio::signal_set signals(signals_io, SIGINT, SIGTERM);
  if (apm::Status s = server.Start(); !s.ok()) {
    std::cerr << "apm-tenant-sim: " << s.message() << "\n";
    return 1;
  }
  apm::LogInfo("listening", {{"address", o.listen.substr(0, o.listen.rfind(':')) + ":" +
                                             std::to_string(server.port())},
                             {"tenant", o.tenant_id},
                             {"profile_group", model.profile_group_id()},
                             {"admin", o.config.admin_enabled}});
  apm::FlushLogs();
  signals.async_wait([](boost::system::error_code, int) {});
  signals_io.run();
  server.Shutdown();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App app{"Autopilot Manager tenant simulator (Entra ID and Microsoft Graph)"};
  app.set_version_flag("--version", std::string("apm-tenant-sim ") + APM_VERSION);
  SimOptions o;
  AddTenantOptions(app, o);
  AddSignInOptions(app, o);
  AddModelOptions(app, o);
  AddRepairOptions(app, o);
  CLI11_PARSE(app, argc, argv);
  o.config.other_tenant_serials.insert(o.other_tenant.begin(), o.other_tenant.end());
  o.config.registered_serials.insert(o.registered.begin(), o.registered.end());
  for (const std::string& text : o.registered_devices) {
    auto spec = apm::sim::RegisteredDeviceFromJson(nlohmann::json::parse(text, nullptr, false));
    if (spec.ok()) o.config.registered_devices.push_back(std::move(*spec));
  }
  std::string certificate_pem;
  std::vector<apm::sim::TestUserSpec> users;
  if (!LoadInputs(o, &certificate_pem, &users)) return 1;
  return Serve(o, certificate_pem, users);
}
