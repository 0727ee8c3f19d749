#include "server/setup/setup_command.h"

#include <sys/stat.h>

#include <filesystem>
#include <iostream>
#include <thread>

#include "server/auth/client_assertion_signer.h"
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
  entra_->add_flag("--certificate", certificate_,
                   "use a certificate it makes (RSA, self-signed, key beside apm.toml) instead of "
                   "a client secret; a configured ClientCertificateFile implies it");
  entra_
      ->add_option("--certificate-days", options_.certificate_days, "validity of a new certificate")
      ->check(CLI::Range(1, 1095))
      ->capture_default_str();
  entra_->add_option("--write-config", write_config_,
                     "the apm.toml to write (default: the --config file, else ./apm.toml)");
  entra_->add_option("--env-file", env_file_,
                     "the environment file for the secret (default: apm.env beside apm.toml)");
}

namespace {

// Where the command reads and writes, decided once from the options and the configuration.
struct SetupPaths {
  std::string toml, env;
  std::string certificate;  // the configured certificate, or where a new one goes
  std::string current_key;  // the configured key (the certificate's own file when combined)
  std::string new_key;      // where a new key goes: never the certificate's file
};

constexpr const char* kHeading = "Written by apm-server setup entra";

// The settings apm.toml gets: the tenant, what the set-up found or made, the certificate files.
std::vector<std::pair<std::string, std::string>> SettingsOf(const SetupReport& report,
                                                            const std::string& tenant_id,
                                                            const SetupOptions& options,
                                                            const SetupPaths& paths) {
  std::vector<std::pair<std::string, std::string>> settings = report.settings;
  if (!tenant_id.empty()) settings.insert(settings.begin(), {"TenantId", TomlString(tenant_id)});
  if (options.use_certificate) {
    settings.emplace_back("ClientCertificateFile", TomlString(paths.certificate));
    // A kept certificate keeps its key where it is (perhaps in its own file).
    if (report.certificate_to_make) {
      settings.emplace_back("ClientPrivateKeyFile", TomlString(paths.new_key));
    }
  }
  return settings;
}

// Checks that the signed-in admin may grant consent; false (having said why) when not.
bool MayChangeTenant(TenantSetup& setup, const AdminSignIn& admin) {
  std::vector<std::string> roles;
  Result<bool> may = setup.MayGrantConsent(&roles);
  if (may.ok() && *may) return true;
  std::string held;
  for (const std::string& r : roles) held += (held.empty() ? "" : ", ") + r;
  std::cerr << "apm-server setup entra: "
            << (may.ok() ? (admin.user.empty() ? "the signed-in account" : admin.user) + " holds " +
                               (held.empty() ? "no directory role" : held) +
                               ", which cannot grant admin consent to Microsoft Graph's "
                               "application permissions"
                         : may.status().message())
            << ".\nSign in as a Global Administrator or Privileged Role Administrator (an "
               "eligible role must be activated in Privileged Identity Management first), or ask "
               "one to run this command. Nothing was changed.\n";
  return false;
}

// Writes the credential the set-up made (the secret to the environment file; a certificate's
// key and certificate beside apm.toml) before the settings that name it. False (having said
// why) on an error.
bool WriteCredential(const SetupReport& done, const std::string& env_text,
                     const SetupPaths& paths) {
  auto failed = [](const std::string& what, const Status& s) {
    std::cerr << "apm-server setup entra: " << what << ": " << s.message() << "\n";
    return false;
  };
  if (!done.new_secret.empty()) {
    Result<std::string> env = SetEnvFileValue(env_text, "APM_CLIENT_SECRET", done.new_secret);
    Status wrote = env.ok() ? WriteTextFile(paths.env, *env, 0600) : env.status();
    if (!wrote.ok()) return failed("the new client secret could not be written", wrote);
    std::cout << "  + APM_CLIENT_SECRET written to " << paths.env << " (mode 600)\n";
  }
  if (!done.new_certificate.private_key_pem.empty()) {
    // The service reads the key: apm.toml's group (root:apm in the package), or its
    // directory's for a first apm.toml; mode 640.
    const std::string owner = std::filesystem::exists(paths.toml)
                                  ? paths.toml
                                  : std::filesystem::absolute(paths.toml).parent_path().string();
    Status wrote = WriteTextFile(paths.new_key, done.new_certificate.private_key_pem, 0640, owner);
    if (wrote.ok()) {
      wrote = WriteTextFile(paths.certificate, done.new_certificate.certificate_pem, 0644, owner);
    }
    if (!wrote.ok()) return failed("the new certificate could not be written", wrote);
    std::cout << "  + certificate written to " << paths.certificate << " (mode 644), its key to "
              << paths.new_key << " (mode 640)\n";
  }
  return true;
}

// Writes `settings` into apm.toml when they change it; false (having said why) on an error.
bool WriteSettings(const std::string& toml_text,
                   const std::vector<std::pair<std::string, std::string>>& settings,
                   const SetupPaths& paths) {
  const std::string new_toml = SetTomlKeys(toml_text, settings, kHeading);
  if (new_toml == toml_text) return true;
  Status s = CheckToml(new_toml);
  // A new apm.toml takes its directory's owner and group (/etc/apm: the package's).
  if (s.ok()) {
    s = WriteTextFile(paths.toml, new_toml, ModeOf(paths.toml, 0640),
                      std::filesystem::absolute(paths.toml).parent_path().string());
  }
  if (!s.ok()) {
    std::cerr << "apm-server setup entra: " << s.message() << "\n";
    return false;
  }
  std::cout << "  + settings written to " << paths.toml << ":";
  for (const auto& setting : settings) {
    if (SetTomlKeys(toml_text, {setting}, kHeading) != toml_text) std::cout << " " << setting.first;
  }
  std::cout << "\n";
  return true;
}

// With a certificate, the secret it replaces leaves the environment file (the server refuses
// both); after the settings naming the certificate are written. False on an error.
bool RemoveReplacedSecret(const std::string& env_text, const SetupOptions& options,
                          const SetupPaths& paths) {
  if (!options.use_certificate || !EnvFileValue(env_text, "APM_CLIENT_SECRET")) return true;
  Status wrote = WriteTextFile(paths.env, RemoveEnvFileValue(env_text, "APM_CLIENT_SECRET"), 0600);
  if (!wrote.ok()) {
    std::cerr << "apm-server setup entra: APM_CLIENT_SECRET could not be removed from " << paths.env
              << ": " << wrote.message() << "\n";
    return false;
  }
  std::cout << "  + APM_CLIENT_SECRET removed from " << paths.env
            << " (the certificate replaces it; the server refuses both)\n";
  return true;
}

}  // namespace

int SetupCommand::Run(const Config& config, const std::string& config_path) const {
  SetupPaths paths;
  paths.toml = !write_config_.empty() ? write_config_
               : !config_path.empty() ? config_path
                                      : "apm.toml";
  const std::filesystem::path dir =
      std::filesystem::absolute(std::filesystem::path(paths.toml)).parent_path();
  paths.env = !env_file_.empty() ? env_file_ : (dir / "apm.env").string();
  paths.certificate = !config.ClientCertificateFile.empty() ? config.ClientCertificateFile
                                                            : (dir / "graph-cert.pem").string();
  paths.current_key =
      !config.ClientPrivateKeyFile.empty() ? config.ClientPrivateKeyFile : paths.certificate;
  paths.new_key = !config.ClientPrivateKeyFile.empty() &&
                          config.ClientPrivateKeyFile != config.ClientCertificateFile
                      ? config.ClientPrivateKeyFile
                      : (dir / "graph-key.pem").string();
  SetupOptions options = options_;
  if (options.public_url.empty()) options.public_url = config.PublicUrl;
  while (options.public_url.ends_with('/')) options.public_url.pop_back();
  if (options.public_url.empty()) {
    std::cerr << "apm-server setup entra: PublicUrl is not set: the app registration's redirect "
                 "URI is made from it (set PublicUrl in the configuration or pass "
                 "--public-url)\n";
    return 2;
  }
  // A configured certificate stays the credential; --certificate switches to one.
  options.use_certificate = certificate_ || !config.ClientCertificateFile.empty();
  if (options.use_certificate && config.sources.contains("ClientSecret") &&
      config.sources.at("ClientSecret") != "APM_CLIENT_SECRET") {
    std::cerr << "apm-server setup entra: " << config.sources.at("ClientSecret")
              << " sets ClientSecret, and a certificate replaces it (the server refuses both): "
                 "remove that line first\n";
    return 2;
  }
  Result<std::string> env_text = ReadTextFile(paths.env);
  Result<std::string> toml_text = ReadTextFile(paths.toml);
  Result<std::string> certificate_text =
      options.use_certificate ? ReadTextFile(paths.certificate) : Result<std::string>("");
  for (const auto* r : {&env_text, &toml_text, &certificate_text}) {
    if (!r->ok()) {
      std::cerr << "apm-server setup entra: " << r->status().message() << "\n";
      return 2;
    }
  }
  // The configured certificate counts only with a key that belongs to it (a renewal cut short
  // may have left them apart): otherwise a new one is made.
  if (!certificate_text->empty() &&
      ClientAssertionSigner::Load(paths.certificate,
                                  paths.current_key == paths.certificate ? "" : paths.current_key)
          .ok()) {
    options.current_certificate_pem = *certificate_text;
  }
  // The environment file is where this command keeps the secret: its value wins over an old
  // one left in apm.toml.
  options.current_secret =
      EnvFileValue(*env_text, "APM_CLIENT_SECRET").value_or(config.ClientSecret);

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
    std::cerr << "apm-server setup entra: sign-in failed: " << admin.status().message()
              << ".\nSign in as a Global Administrator or Privileged Role Administrator. Nothing "
                 "was changed.\n";
    return admin.status().code() == StatusCode::kPermissionDenied ? 3 : 1;
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
  const auto planned_settings = SettingsOf(plan, tenant_id, options, paths);
  const bool secret_to_remove =
      options.use_certificate && EnvFileValue(*env_text, "APM_CLIENT_SECRET").has_value();
  const bool file_changes =
      SetTomlKeys(*toml_text, planned_settings, kHeading) != *toml_text || secret_to_remove;
  if (plan.changes.empty() && !file_changes) {
    std::cout << "Nothing to change: the tenant and " << paths.toml
              << " are set up as apm-server needs.\n";
    PrintList("=", plan.kept);
    return 0;
  }
  if (dry_run_) {
    std::cout << "Would change (--dry-run, nothing was changed):\n";
    PrintList("+", plan.changes);
    if (file_changes) std::cout << "  + write the settings to " << paths.toml << "\n";
    std::cout << "Already right:\n";
    PrintList("=", plan.kept);
    return 0;
  }
  if (!plan.changes.empty()) {
    TenantSetup check(config, options, graph, clock);
    if (!MayChangeTenant(check, *admin)) return 3;
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
  if (!WriteCredential(done, *env_text, paths)) return 1;
  if (!WriteSettings(*toml_text, SettingsOf(done, tenant_id, options, paths), paths)) return 1;
  if (!RemoveReplacedSecret(*env_text, options, paths)) return 1;
  std::cout << "Done. Restart apm-server to use it (systemctl restart apm-server) and check "
               "with `apm-server doctor`.\n";
  return 0;
}

}  // namespace apm
