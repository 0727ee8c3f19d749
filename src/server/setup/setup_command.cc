#include "server/setup/setup_command.h"

#include <sys/stat.h>

#include <filesystem>
#include <iostream>
#include <thread>

#include "server/clock.h"
#include "server/graph/graph_client.h"
#include "server/graph/token_source.h"
#include "server/graph_settings.h"
#include "server/http/curl_outbound_http.h"
#include "server/setup/device_code_sign_in.h"
#include "server/setup/setup_files.h"

namespace apm {
namespace {

// The admin's token from the sign-in: it cannot be renewed, and the set-up takes minutes.
class SignedInToken : public TokenSource {
 public:
  explicit SignedInToken(std::string token) : token_(std::move(token)) {}
  Result<std::string> AccessToken() override { return token_; }
  void Invalidate(const std::string&) override {}

 private:
  std::string token_;
};

void PrintList(const char* mark, const std::vector<std::string>& lines) {
  for (const std::string& l : lines) std::cout << "  " << mark << " " << l << "\n";
}

// The existing file's permission bits, or `fallback` for a new file.
unsigned ModeOf(const std::string& path, unsigned fallback) {
  struct stat file_info;
  return ::stat(path.c_str(), &file_info) == 0 ? (file_info.st_mode & 07777) : fallback;
}

}  // namespace

SetupCommand::SetupCommand(CLI::App& app) {
  setup_ = app.add_subcommand("setup", "prepare the tenant for apm-server");
  setup_->require_subcommand(1);
  entra_ = setup_->add_subcommand(
      "entra",
      "sign in as an admin (device code) and create or update the app registration, its "
      "permissions with admin consent, a client secret, the groups and the deployment profile; "
      "write the settings; a second run changes nothing that is right");
  entra_->add_flag("--dry-run", dry_run_, "only print what would change");
  entra_->add_option("--tenant", tenant_,
                     "tenant id or domain to sign in to (default: TenantId, else the admin's own)");
  entra_->add_option("--public-url", options_.public_url,
                     "the address devices and browsers use (default: PublicUrl)");
  entra_->add_option("--app-name", options_.app_name, "the app registration's name")
      ->capture_default_str();
  entra_->add_option("--approver-group", options_.approver_group, "approvers' group name")
      ->capture_default_str();
  entra_->add_option("--viewer-group", options_.viewer_group, "viewers' group name")
      ->capture_default_str();
  entra_
      ->add_option("--users-group", options_.users_group,
                   "the group allowed self-service sign-in (AuthorizationSecurityGroup)")
      ->capture_default_str();
  entra_
      ->add_option("--profile-group", options_.profile_group,
                   "the assigned group devices join for their deployment profile")
      ->capture_default_str();
  entra_
      ->add_option("--deployment-profile", options_.deployment_profile,
                   "the deployment profile to target the profile group with (created when no "
                   "profile targets it and none has this name)")
      ->capture_default_str();
  entra_->add_option("--secret-days", options_.secret_days, "validity of a new client secret")
      ->check(CLI::Range(1, 730))
      ->capture_default_str();
  entra_->add_option("--write-config", write_config_,
                     "the apm.toml to write (default: the --config file, else ./apm.toml)");
  entra_->add_option("--env-file", env_file_,
                     "the environment file for the secret (default: apm.env beside apm.toml)");
}

int SetupCommand::Run(const Config& config, const std::string& config_path) const {
  const std::string toml_path = !write_config_.empty() ? write_config_
                                : !config_path.empty() ? config_path
                                                       : "apm.toml";
  const std::string env_path =
      !env_file_.empty() ? env_file_
                         : (std::filesystem::path(toml_path).parent_path() / "apm.env").string();
  SetupOptions options = options_;
  if (options.public_url.empty()) options.public_url = config.PublicUrl;
  while (options.public_url.ends_with('/')) options.public_url.pop_back();
  if (options.public_url.empty()) {
    std::cerr << "apm-server setup entra: PublicUrl is not set: the app registration's redirect "
                 "URI is made from it (set PublicUrl in the configuration or pass "
                 "--public-url)\n";
    return 2;
  }
  Result<std::string> env_text = ReadTextFile(env_path);
  Result<std::string> toml_text = ReadTextFile(toml_path);
  for (const auto* r : {&env_text, &toml_text}) {
    if (!r->ok()) {
      std::cerr << "apm-server setup entra: " << r->status().message() << "\n";
      return 2;
    }
  }
  options.current_secret = config.ClientSecret;
  if (options.current_secret.empty()) {
    options.current_secret = EnvFileValue(*env_text, "APM_CLIENT_SECRET").value_or("");
  }

  const std::string agent = std::string("apm-server/") + APM_VERSION + " (setup)";
  CurlOutboundHttp::Options http_options;
  http_options.ca_file = config.GraphCaFile;
  http_options.user_agent = agent;
  CurlOutboundHttp http(http_options);
  SystemClock clock;
  DeviceCodeSignIn::Options sign_in_options;
  sign_in_options.login_endpoint = config.LoginEndpoint;
  sign_in_options.tenant = !tenant_.empty()           ? tenant_
                           : !config.TenantId.empty() ? config.TenantId
                                                      : "organizations";
  sign_in_options.scopes = kSetupScopes;
  DeviceCodeSignIn sign_in(sign_in_options, http, clock, [](std::chrono::milliseconds d) {
    std::this_thread::sleep_for(d);
    return true;
  });
  Result<AdminSignIn> admin = sign_in.SignIn([](const std::string& message) {
    std::cout << message << "\n" << std::flush;
  });
  if (!admin.ok()) {
    std::cerr << "apm-server setup entra: sign-in failed: " << admin.status().message() << "\n";
    return 1;
  }
  const std::string tenant_id = !admin->tenant_id.empty() ? admin->tenant_id : config.TenantId;
  std::cout << "Signed in" << (admin->user.empty() ? "" : " as " + admin->user)
            << (tenant_id.empty() ? "" : " to tenant " + tenant_id) << ".\n";

  SignedInToken token(admin->access_token);
  GraphClient graph(GraphClientOptions(config), http, token, clock);
  SetupReport plan;
  Status planned = TenantSetup(config, options, graph, clock).Run(/*dry_run=*/true, &plan);
  if (!planned.ok()) {
    std::cerr << "apm-server setup entra: " << planned.message() << "\nNothing was changed.\n";
    return 1;
  }
  std::vector<std::pair<std::string, std::string>> settings = plan.settings;
  if (!tenant_id.empty()) settings.insert(settings.begin(), {"TenantId", TomlString(tenant_id)});
  const std::string heading = "Written by apm-server setup entra";
  const bool config_changes = SetTomlKeys(*toml_text, settings, heading) != *toml_text;

  if (plan.changes.empty() && !config_changes) {
    std::cout << "Nothing to change: the tenant and " << toml_path
              << " are set up as apm-server needs.\n";
    PrintList("=", plan.kept);
    return 0;
  }
  if (dry_run_) {
    std::cout << "Would change (--dry-run, nothing was changed):\n";
    PrintList("+", plan.changes);
    if (config_changes) std::cout << "  + write the settings to " << toml_path << "\n";
    std::cout << "Already right:\n";
    PrintList("=", plan.kept);
    return 0;
  }
  if (!plan.changes.empty()) {
    std::vector<std::string> roles;
    Result<bool> may = TenantSetup(config, options, graph, clock).MayGrantConsent(&roles);
    if (!may.ok() || !*may) {
      std::string held;
      for (const std::string& r : roles) held += (held.empty() ? "" : ", ") + r;
      std::cerr << "apm-server setup entra: "
                << (may.ok() ? (admin->user.empty() ? "the signed-in account" : admin->user) +
                                   " holds " + (held.empty() ? "no directory role" : held) +
                                   ", which cannot grant admin consent to Microsoft Graph's "
                                   "application permissions"
                             : may.status().message())
                << ".\nSign in as a Global Administrator or Privileged Role Administrator (or "
                   "ask one to run this command). Nothing was changed.\n";
      return 3;
    }
  }

  SetupReport done;
  Status applied = TenantSetup(config, options, graph, clock).Run(/*dry_run=*/false, &done);
  std::cout << (done.changes.empty() ? "" : "Changed:\n");
  PrintList("+", done.changes);
  if (!applied.ok()) {
    std::cerr << "apm-server setup entra: " << applied.message()
              << "\nWhat is listed above was done; run the command again once the cause is "
                 "fixed (what is already right is kept).\n";
    return 1;
  }
  // The secret goes to the environment file first: a configuration naming an app whose secret
  // was lost would need another secret.
  if (!done.new_secret.empty()) {
    Result<std::string> env = SetEnvFileValue(*env_text, "APM_CLIENT_SECRET", done.new_secret);
    Status wrote = env.ok() ? WriteTextFile(env_path, *env, 0600) : env.status();
    if (!wrote.ok()) {
      std::cerr << "apm-server setup entra: the new client secret could not be written: "
                << wrote.message() << "\n";
      return 1;
    }
    std::cout << "  + APM_CLIENT_SECRET written to " << env_path << " (mode 600)\n";
  }
  settings = done.settings;
  if (!tenant_id.empty()) settings.insert(settings.begin(), {"TenantId", TomlString(tenant_id)});
  const std::string new_toml = SetTomlKeys(*toml_text, settings, heading);
  if (new_toml != *toml_text) {
    Status s = CheckToml(new_toml);
    if (s.ok()) s = WriteTextFile(toml_path, new_toml, ModeOf(toml_path, 0640));
    if (!s.ok()) {
      std::cerr << "apm-server setup entra: " << s.message() << "\n";
      return 1;
    }
    std::cout << "  + settings written to " << toml_path << ":";
    for (const auto& setting : settings) {
      if (SetTomlKeys(*toml_text, {setting}, heading) != *toml_text) {
        std::cout << " " << setting.first;
      }
    }
    std::cout << "\n";
  }
  std::cout << "Done. Restart apm-server to use it (systemctl restart apm-server) and check "
               "with `apm-server doctor`.\n";
  return 0;
}

}  // namespace apm
