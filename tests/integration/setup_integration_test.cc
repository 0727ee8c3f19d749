// `apm-server setup entra` against apm-tenant-sim started as an empty tenant: the admin signs in
// with the device code (entered on the simulator's /devicelogin page as a person would), the
// tenant ends up as the doctor wants it, a second run changes nothing, --dry-run changes
// nothing, and an account without consent rights is stopped before anything changes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "server_process.h"

namespace apm::itest {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kTenant[] = "00000000-0000-4000-8000-000000000001";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class SetupTest : public ::testing::Test {
 protected:
  // The simulator as an empty tenant (plus `extra`), and a server configuration pointing at it.
  void StartSim(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--admin", "--empty-tenant",         "--tenant-id",
                                     kTenant,   "--device-code-interval", "1"};
    args.insert(args.end(), extra.begin(), extra.end());
    sim_ = ServerProcess::TenantSim(args);
    ASSERT_TRUE(sim_->Start()) << sim_->log();
    // PublicUrl on a port nobody listens on: the doctor only warns about it.
    server_ = std::make_unique<ServerProcess>("LoginEndpoint = \"" + sim_->url() +
                                              "\"\nGraphEndpoint = \"" + sim_->url() +
                                              "\"\nPublicUrl = \"http://127.0.0.1:9\"\n");
  }

  // The object id of the simulator's test user `upn`.
  std::string UserId(const std::string& upn) {
    json users = json::parse(Http("GET", sim_->url() + "/_sim/users").body, nullptr, false);
    for (const json& u : users["users"]) {
      if (u["userPrincipalName"] == upn) return u["id"];
    }
    ADD_FAILURE() << "no test user " << upn;
    return "";
  }

  // Runs `setup entra ARGS` and signs in as `upn` on the device login page once the command
  // shows its code; the exit code, the output in `out`.
  int RunSetup(std::vector<std::string> args, const std::string& upn, std::string* out,
               bool expect_signed_in = true) {
    args.insert(args.begin(), {"setup", "entra", "--tenant", kTenant});
    std::future<int> run =
        std::async(std::launch::async, [&] { return server_->RunCommand(args, out); });
    const std::string user = UserId(upn);
    bool entered = false;
    for (int i = 0; i < 100 && !entered; ++i) {
      if (run.wait_for(std::chrono::milliseconds(100)) == std::future_status::ready) break;
      json pending = json::parse(Http("GET", sim_->url() + "/_sim/device-codes").body, nullptr,
                                 false)["pending"];
      if (!pending.is_array() || pending.empty()) continue;
      HttpResult page = Http("POST", sim_->url() + "/devicelogin",
                             "code=" + pending[0]["user_code"].get<std::string>() + "&user=" + user,
                             {"Content-Type: application/x-www-form-urlencoded"});
      EXPECT_EQ(page.status, 200) << page.body.substr(0, 300);
      EXPECT_THAT(page.body,
                  HasSubstr(expect_signed_in ? "You have signed in" : "Need admin approval"));
      entered = true;
    }
    EXPECT_TRUE(entered) << "the command showed no device code";
    return run.get();
  }

  // Requests other than GET the simulator answered (a dry run or a refused run makes none).
  int NonGetRequests() {
    json stats = json::parse(Http("GET", sim_->url() + "/_sim/stats").body, nullptr, false);
    int n = 0;
    for (const auto& [route, count] : stats["requests"].items()) {
      if (!route.starts_with("GET ")) n += count.get<int>();
    }
    return n;
  }

  // How often the simulator saw each write route.
  int Writes(const std::string& route) {
    json stats = json::parse(Http("GET", sim_->url() + "/_sim/stats").body, nullptr, false);
    const json& n = stats["requests"][route];
    return n.is_number() ? n.get<int>() : 0;
  }

  std::string EnvPath() const {
    const std::string& config = server_->config_path();
    return config.substr(0, config.rfind('/')) + "/apm.env";
  }

  std::unique_ptr<ServerProcess> sim_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(SetupTest, FromAnEmptyTenantItSetsUpWhatTheDoctorChecksAndASecondRunChangesNothing) {
  StartSim();
  const std::string before = ReadFile(server_->config_path());
  std::string out;
  ASSERT_EQ(RunSetup({"--dry-run"}, "admin@contoso.example", &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("Would change (--dry-run, nothing was changed)"));
  EXPECT_THAT(out, HasSubstr("+ create the app registration \"Autopilot Manager\""));
  EXPECT_THAT(out,
              HasSubstr("+ grant admin consent to DeviceManagementServiceConfig.ReadWrite.All"));
  EXPECT_THAT(out, HasSubstr("+ create the security group \"Autopilot Profile Devices\""));
  // The test users' groups exist already: reused, not created.
  EXPECT_THAT(out, HasSubstr("= ApproverSecurityGroup \"Autopilot Approvers\""));
  EXPECT_EQ(NonGetRequests(), 0);
  EXPECT_EQ(ReadFile(server_->config_path()), before);
  EXPECT_FALSE(std::filesystem::exists(EnvPath()));

  ASSERT_EQ(RunSetup({}, "admin@contoso.example", &out), 0) << out;
  EXPECT_THAT(out,
              HasSubstr("Signed in as admin@contoso.example to tenant " + std::string(kTenant)));
  EXPECT_THAT(out, HasSubstr("+ create the app registration"));
  EXPECT_THAT(out, HasSubstr("+ APM_CLIENT_SECRET written to"));
  EXPECT_EQ(Writes("POST /v1.0/applications"), 1);
  EXPECT_EQ(Writes("POST /v1.0/groups"), 1);  // the profile group only
  const std::string config = ReadFile(server_->config_path());
  EXPECT_THAT(config, HasSubstr("PublicUrl = \"http://127.0.0.1:9\""));  // the admin's line kept
  EXPECT_THAT(config, HasSubstr("TenantId = '" + std::string(kTenant) + "'"));
  EXPECT_THAT(config, HasSubstr("ClientId = '"));
  EXPECT_THAT(config, HasSubstr("UseAutopilotProfileGroup = true"));
  const std::string env = ReadFile(EnvPath());
  ASSERT_THAT(env, HasSubstr("APM_CLIENT_SECRET='"));
  const std::string secret = env.substr(19, env.find('\'', 19) - 19);
  EXPECT_THAT(out, Not(HasSubstr(secret)));  // never printed
  EXPECT_THAT(config, Not(HasSubstr(secret)));

  // The doctor, with the written configuration and the secret from the environment file.
  ServerProcess configured(config, {{"APM_CLIENT_SECRET", secret}});
  std::string doctor;
  EXPECT_EQ(configured.RunCommand({"doctor", "--json"}, &doctor), 0) << doctor;
  json report =
      json::parse(doctor.substr(std::min(doctor.find('{'), doctor.size())), nullptr, false);
  std::map<std::string, std::string> verdicts;
  for (const json& f : report["findings"]) verdicts[f["check"]] = f["verdict"];
  for (const char* check :
       {"token", "permission DeviceManagementServiceConfig.ReadWrite.All",
        "permission DeviceManagementManagedDevices.ReadWrite.All", "permission Device.Read.All",
        "permission GroupMember.ReadWrite.All", "client secret", "profile group",
        "profile assignment", "group ApproverSecurityGroup", "group ViewerSecurityGroup",
        "group AuthorizationSecurityGroup", "sign-in"}) {
    EXPECT_EQ(verdicts[check], "ok") << check << "\n" << doctor;
  }

  // Again: nothing to change, no write, the files as they were.
  const int app_writes =
      Writes("PATCH /v1.0/applications/{id}") + Writes("POST /v1.0/applications");
  ASSERT_EQ(RunSetup({}, "admin@contoso.example", &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("Nothing to change"));
  EXPECT_THAT(out, HasSubstr("= client secret ("));
  EXPECT_EQ(Writes("PATCH /v1.0/applications/{id}") + Writes("POST /v1.0/applications"),
            app_writes);
  EXPECT_EQ(Writes("POST /v1.0/applications/{id}/addPassword"), 1);
  EXPECT_EQ(ReadFile(server_->config_path()), config);
  EXPECT_EQ(ReadFile(EnvPath()), env);

  // From the secret to a certificate: the secret leaves apm.env once the settings name the
  // certificate, and the doctor gets its token with the certificate alone.
  ASSERT_EQ(RunSetup({"--certificate"}, "admin@contoso.example", &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("+ make a certificate"));
  EXPECT_THAT(out, HasSubstr("+ APM_CLIENT_SECRET removed from"));
  EXPECT_THAT(ReadFile(EnvPath()), Not(HasSubstr("APM_CLIENT_SECRET")));
  ServerProcess certified(ReadFile(server_->config_path()));
  EXPECT_EQ(certified.RunCommand({"doctor", "--json"}, &doctor), 0) << doctor;
  EXPECT_THAT(doctor, HasSubstr("with its certificate"));
}

TEST_F(SetupTest, WithACertificateTheAppSignsInWithItsKeyAndNoSecretIsMade) {
  // Graph's replication: the new enterprise app is not found for 1.5 s; the set-up waits.
  StartSim({"--replication-delay-ms", "1500"});
  std::string out;
  ASSERT_EQ(RunSetup({"--certificate"}, "admin@contoso.example", &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("+ make a certificate valid for 365 days and upload it"));
  EXPECT_THAT(out, Not(HasSubstr("add a client secret")));
  EXPECT_EQ(Writes("POST /v1.0/applications/{id}/addPassword"), 0);
  const std::string dir = server_->config_path().substr(0, server_->config_path().rfind('/'));
  const std::string config = ReadFile(server_->config_path());
  EXPECT_THAT(config, HasSubstr("ClientCertificateFile = '" + dir + "/graph-cert.pem'"));
  EXPECT_THAT(config, HasSubstr("ClientPrivateKeyFile = '" + dir + "/graph-key.pem'"));
  EXPECT_THAT(ReadFile(dir + "/graph-key.pem"), HasSubstr("-----BEGIN PRIVATE KEY-----"));
  EXPECT_EQ(ReadFile(EnvPath()), "");

  // The doctor gets its token with a client assertion signed by the written key.
  ServerProcess configured(config);
  std::string doctor;
  EXPECT_EQ(configured.RunCommand({"doctor", "--json"}, &doctor), 0) << doctor;
  EXPECT_THAT(doctor, HasSubstr("with its certificate"));
  const std::string key = ReadFile(dir + "/graph-key.pem");
  ASSERT_EQ(RunSetup({}, "admin@contoso.example", &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("Nothing to change"));
  EXPECT_THAT(out, HasSubstr("= client certificate (ends "));
  EXPECT_EQ(ReadFile(dir + "/graph-key.pem"), key);
  EXPECT_EQ(Writes("PATCH /v1.0/applications/{id}"), 1);  // the one upload

  // An admin who keeps certificate and key in one file: a re-run keeps it so, adding no
  // ClientPrivateKeyFile that would point elsewhere.
  {
    std::ofstream combined(dir + "/combined.pem");
    combined << ReadFile(dir + "/graph-cert.pem") << key;
  }
  std::string one_file;
  std::istringstream lines(ReadFile(server_->config_path()));
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("ClientPrivateKeyFile")) continue;
    if (line.starts_with("ClientCertificateFile"))
      line = "ClientCertificateFile = '" + dir + "/combined.pem'";
    one_file += line + "\n";
  }
  {
    std::ofstream rewrite(server_->config_path());
    rewrite << one_file;
  }
  ASSERT_EQ(RunSetup({}, "admin@contoso.example", &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("Nothing to change"));
  EXPECT_EQ(ReadFile(server_->config_path()), one_file);
}

TEST_F(SetupTest, AUserWithoutTheRoleIsStoppedBeforeAnyChange) {
  // The tool's scopes were consented for everyone earlier: the user signs in, and the set-up
  // finds no role that may grant Graph's application permissions.
  StartSim({"--organisation-consented"});
  const std::string before = ReadFile(server_->config_path());
  std::string out;
  EXPECT_EQ(RunSetup({}, "user@contoso.example", &out), 3) << out;
  EXPECT_THAT(out, HasSubstr("user@contoso.example holds no directory role, which cannot grant "
                             "admin consent to Microsoft Graph's application permissions"));
  EXPECT_THAT(out, HasSubstr("Sign in as a Global Administrator or Privileged Role Administrator"));
  EXPECT_THAT(out, HasSubstr("Nothing was changed."));
  EXPECT_EQ(NonGetRequests(), 0);
  EXPECT_EQ(ReadFile(server_->config_path()), before);
  EXPECT_FALSE(std::filesystem::exists(EnvPath()));
}

TEST_F(SetupTest, AUserWhoCannotConsentIsToldAtSignIn) {
  // Without an earlier consent for everyone, Entra shows "Need admin approval" on the page.
  StartSim();
  std::string out;
  EXPECT_EQ(RunSetup({}, "user@contoso.example", &out, /*expect_signed_in=*/false), 3) << out;
  EXPECT_THAT(out, HasSubstr("sign-in failed: the sign-in was declined"));
  EXPECT_THAT(out, HasSubstr("Need admin approval"));
  EXPECT_THAT(out, HasSubstr("Nothing was changed."));
  EXPECT_EQ(NonGetRequests(), 0);
}

TEST_F(SetupTest, WithoutPublicUrlItSaysSoBeforeSigningIn) {
  StartSim();
  ServerProcess bare("LoginEndpoint = \"" + sim_->url() + "\"\nGraphEndpoint = \"" + sim_->url() +
                     "\"\n");
  std::string out;
  EXPECT_EQ(bare.RunCommand({"setup", "entra", "--tenant", kTenant}, &out), 2);
  EXPECT_THAT(out, HasSubstr("PublicUrl is not set"));
  EXPECT_THAT(out, Not(HasSubstr("To sign in")));
}

}  // namespace
}  // namespace apm::itest
