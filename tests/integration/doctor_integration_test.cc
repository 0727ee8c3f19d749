// `apm-server doctor` against apm-tenant-sim set up right, and set up wrong in each way an admin
// gets it wrong: each mistake named with its fix, a correct set-up passing with exit 0.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "server_process.h"

namespace apm::itest {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kTenant[] = "00000000-0000-4000-8000-000000000001";

class DoctorTest : public ::testing::Test {
 protected:
  void StartSim(std::vector<std::string> args = {}) {
    args.insert(args.end(), {"--admin", "--tenant-id", kTenant,
                             std::string("--profile-group-id=") + kSimProfileGroup});
    sim_ = ServerProcess::TenantSim(args);
    ASSERT_TRUE(sim_->Start()) << sim_->log();
  }
  // The doctor's exit code for a server set up for the simulator (plus `extra`), its JSON in
  // `report`, and its text in `text` (asked for again without --json) when given.
  // `env` adds APM_ variables (they override the file, as an admin's do).
  int Doctor(const std::string& extra, json* report, std::string* text = nullptr,
             const std::string& secret = "simulator-secret",
             std::map<std::string, std::string> env = {}) {
    if (!secret.empty()) env["APM_CLIENT_SECRET"] = secret;
    ServerProcess server(SimTenantConfig(sim_->url(), kTenant) + extra, env);
    std::string out;
    int rc = server.RunCommand({"doctor", "--json"}, &out);
    *report = json::parse(out.substr(std::min(out.find('{'), out.size())), nullptr, false);
    EXPECT_TRUE(report->is_object()) << out;
    if (text) {
      EXPECT_EQ(server.RunCommand({"doctor"}, text), rc);
    }
    return rc;
  }
  // The finding of `check`, or null.
  static json Finding(const json& report, const std::string& check) {
    for (const json& f : report["findings"]) {
      if (f["check"] == check) return f;
    }
    return nullptr;
  }
  static std::string Verdict(const json& report, const std::string& check) {
    json f = Finding(report, check);
    return f.is_object() ? f["verdict"].get<std::string>() : "absent";
  }

  // A directory with cert.pem (self-signed, for `cn`, ending in 20 days) and key.pem; "" when
  // openssl failed.
  static std::string CertificateFor20Days(const std::string& prefix, const std::string& cn) {
    const std::string dir = ::testing::TempDir() + prefix + std::to_string(getpid());
    std::filesystem::create_directories(dir);
    const std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 20 -subj /CN=" + cn +
                            " -keyout " + dir + "/key.pem -out " + dir +
                            "/cert.pem >/dev/null 2>&1";
    return system(cmd.c_str()) == 0 ? dir : "";
  }

  std::unique_ptr<ServerProcess> sim_;
};

TEST_F(DoctorTest, ACorrectSetUpPassesEveryCheckAndShowsWhereEachSettingCameFrom) {
  StartSim();
  json report;
  std::string text;
  json users = json::parse(Http("GET", sim_->url() + "/_sim/users").body);
  std::map<std::string, std::string> group;
  for (const json& g : users["groups"]) group[g["displayName"]] = g["id"];
  const std::string sign_in = "SignInAuthority = \"" + sim_->url() + "/" + kTenant + "/v2.0\"\n" +
                              "ApproverSecurityGroup = \"" + group["Autopilot Approvers"] + "\"\n" +
                              "ViewerSecurityGroup = \"" + group["Autopilot Viewers"] + "\"\n";
  ASSERT_EQ(Doctor(sign_in, &report, &text), 0) << report.dump(2);
  for (const char* check :
       {"login endpoint", "graph endpoint", "token",
        "permission DeviceManagementServiceConfig.ReadWrite.All",
        "permission DeviceManagementManagedDevices.ReadWrite.All", "permission Device.Read.All",
        "permission GroupMember.ReadWrite.All", "profile group", "profile assignment",
        "group ApproverSecurityGroup", "group ViewerSecurityGroup", "sign-in"}) {
    EXPECT_EQ(Verdict(report, check), "ok") << check << "\n" << report.dump(2);
  }
  EXPECT_THAT(Finding(report, "graph endpoint")["text"].get<std::string>(),
              HasSubstr("clocks agree within a minute"));
  EXPECT_THAT(Finding(report, "profile assignment")["text"].get<std::string>(),
              HasSubstr("\"Autopilot Manager default profile\" targets"));
  std::map<std::string, json> settings;
  for (const json& s : report["settings"]) settings[s["key"]] = s;
  EXPECT_EQ(settings["ClientSecret"]["value"], "(set, hidden)");
  EXPECT_EQ(settings["ClientSecret"]["source"], "APM_CLIENT_SECRET");
  EXPECT_EQ(settings["TenantId"]["value"], kTenant);
  EXPECT_THAT(settings["TenantId"]["source"].get<std::string>(), HasSubstr(".toml"));
  EXPECT_EQ(settings["DataDir"]["source"], "command line");
  EXPECT_EQ(settings["GroupTag"]["source"], "default");
  EXPECT_EQ(settings["GroupTag"]["value"], "AutopilotManager");
  EXPECT_THAT(report.dump(), Not(HasSubstr("simulator-secret")));
  // Without a terminal, words instead of marks; the secret in neither.
  EXPECT_THAT(text, HasSubstr("[ok]   token: a Graph token for app"));
  EXPECT_THAT(text, HasSubstr("  ClientSecret = (set, hidden)  (APM_CLIENT_SECRET)\n"));
  EXPECT_THAT(text, Not(HasSubstr("simulator-secret")));
}

TEST_F(DoctorTest, AWrongOrExpiredSecretIsNamedWithItsFix) {
  StartSim();
  json report;
  std::string text;
  EXPECT_EQ(Doctor("", &report, &text, "not-the-secret"), 1);
  json token = Finding(report, "token");
  EXPECT_EQ(token["verdict"], "failed");
  EXPECT_THAT(token["text"].get<std::string>(), HasSubstr("AADSTS7000215"));
  EXPECT_THAT(token["fix"].get<std::string>(), HasSubstr("copy the secret's Value (not its ID)"));
  EXPECT_THAT(text, HasSubstr("[FAIL] token: "));
  EXPECT_THAT(text, HasSubstr("       fix: the client secret is wrong"));
  EXPECT_EQ(Verdict(report, "permission Device.Read.All"), "absent") << "no token, no calls";

  StartSim({"--client-secret-expired"});
  EXPECT_EQ(Doctor("", &report), 1);
  EXPECT_THAT(Finding(report, "token")["fix"].get<std::string>(),
              HasSubstr("the client secret has expired"));
}

TEST_F(DoctorTest, AMissingPermissionIsNamedWithItsFix) {
  StartSim({"--app-role=DeviceManagementServiceConfig.ReadWrite.All", "--app-role=Device.Read.All",
            "--app-role=GroupMember.ReadWrite.All"});
  json report;
  EXPECT_EQ(Doctor("", &report), 1);
  json missing = Finding(report, "permission DeviceManagementManagedDevices.ReadWrite.All");
  EXPECT_EQ(missing["verdict"], "failed") << report.dump(2);
  EXPECT_THAT(missing["fix"].get<std::string>(),
              HasSubstr("add DeviceManagementManagedDevices.ReadWrite.All as an application "
                        "permission of the app registration and grant admin consent"));
  EXPECT_EQ(Verdict(report, "permission DeviceManagementServiceConfig.ReadWrite.All"), "ok");
  EXPECT_EQ(Verdict(report, "permission Device.Read.All"), "ok");
  EXPECT_THAT(missing["text"].get<std::string>(),
              HasSubstr("missing from the token's roles claim"));

  // Consent to the read half only: every read works, the token's roles claim tells.
  StartSim({"--app-role=DeviceManagementServiceConfig.Read.All",
            "--app-role=DeviceManagementManagedDevices.ReadWrite.All",
            "--app-role=Directory.Read.All", "--app-role=Group.ReadWrite.All"});
  EXPECT_EQ(Doctor("", &report), 1);
  json read_only = Finding(report, "permission DeviceManagementServiceConfig.ReadWrite.All");
  EXPECT_EQ(read_only["verdict"], "failed") << report.dump(2);
  EXPECT_THAT(read_only["text"].get<std::string>(),
              HasSubstr("granted only as DeviceManagementServiceConfig.Read.All"));
  // Broader permissions serve as well.
  EXPECT_EQ(Verdict(report, "permission Device.Read.All"), "ok") << "Directory.Read.All";
  EXPECT_EQ(Verdict(report, "permission GroupMember.ReadWrite.All"), "ok") << "Group.ReadWrite.All";

  // A token the doctor cannot read: the read probes decide, and say what they cannot tell.
  StartSim({"--opaque-tokens", "--app-role=DeviceManagementServiceConfig.Read.All",
            "--app-role=Device.Read.All", "--app-role=GroupMember.ReadWrite.All"});
  EXPECT_EQ(Doctor("", &report), 1);
  json refused = Finding(report, "permission DeviceManagementManagedDevices.ReadWrite.All");
  EXPECT_EQ(refused["verdict"], "failed") << report.dump(2);
  EXPECT_THAT(refused["text"].get<std::string>(), HasSubstr("missing: Graph refused a read"));
  json read = Finding(report, "permission DeviceManagementServiceConfig.ReadWrite.All");
  EXPECT_EQ(read["verdict"], "ok") << "a read cannot tell the Read half from ReadWrite";
  EXPECT_THAT(read["text"].get<std::string>(), HasSubstr("(the write half is not tried)"));
}

TEST_F(DoctorTest, AMissingDynamicOrUntargetedGroupIsNamedWithItsFix) {
  StartSim({"--profile-group-dynamic"});
  json report;
  EXPECT_EQ(Doctor("", &report), 1);
  json group = Finding(report, "profile group");
  EXPECT_EQ(group["verdict"], "failed");
  EXPECT_THAT(group["text"].get<std::string>(), HasSubstr("is a dynamic group"));
  EXPECT_THAT(group["fix"].get<std::string>(), HasSubstr("use an assigned security group"));

  StartSim({"--profile-unassigned"});
  EXPECT_EQ(Doctor("", &report), 1);
  EXPECT_EQ(Verdict(report, "profile group"), "ok");
  json assignment = Finding(report, "profile assignment");
  EXPECT_EQ(assignment["verdict"], "failed");
  EXPECT_THAT(assignment["text"].get<std::string>(), HasSubstr("no deployment profile targets"));
  EXPECT_THAT(assignment["fix"].get<std::string>(),
              HasSubstr("assign a Windows Autopilot deployment profile"));

  StartSim();
  EXPECT_EQ(Doctor("ApproverSecurityGroup = \"5d2f6a10-7777-4888-8999-aaaabbbbcccc\"\n", &report,
                   nullptr, "simulator-secret",
                   {{"APM_AUTOPILOT_PROFILE_GROUP", "0c9b7f0e-1111-4222-8333-444455556666"}}),
            1);
  EXPECT_THAT(Finding(report, "profile group")["text"].get<std::string>(),
              HasSubstr("no group has the id 0c9b7f0e-1111-4222-8333-444455556666"));
  json approvers = Finding(report, "group ApproverSecurityGroup");
  EXPECT_EQ(approvers["verdict"], "failed");
  EXPECT_THAT(approvers["fix"].get<std::string>(), HasSubstr("set ApproverSecurityGroup to"));
}

TEST_F(DoctorTest, AnUnreachableEndpointAndAForeignIssuerAreNamedWithTheirFix) {
  StartSim({"--public-url=https://login.example/"});
  const std::string closed = "http://127.0.0.1:" + std::to_string(ServerProcess::FreePort());
  json report;
  json users = json::parse(Http("GET", sim_->url() + "/_sim/users").body);
  std::string approvers;
  for (const json& g : users["groups"]) {
    if (g["displayName"] == "Autopilot Approvers") approvers = g["id"];
  }
  EXPECT_EQ(Doctor("ApproverSecurityGroup = \"" + approvers + "\"\nSignInAuthority = \"" +
                       sim_->url() + "/" + kTenant + "/v2.0\"\n",
                   &report, nullptr, "simulator-secret", {{"APM_GRAPH_ENDPOINT", closed}}),
            1);
  json graph = Finding(report, "graph endpoint");
  EXPECT_EQ(graph["verdict"], "failed") << report.dump(2);
  EXPECT_THAT(graph["text"].get<std::string>(), HasSubstr("cannot reach " + closed));
  EXPECT_THAT(graph["fix"].get<std::string>(), HasSubstr("(GraphEndpoint)"));
  EXPECT_EQ(Verdict(report, "login endpoint"), "ok");
  EXPECT_EQ(Verdict(report, "token"), "ok") << "the token comes from the login endpoint";
  EXPECT_EQ(Verdict(report, "permissions"), "warning") << "nothing to ask without Graph";
  json sign_in = Finding(report, "sign-in");
  EXPECT_EQ(sign_in["verdict"], "failed");
  EXPECT_THAT(sign_in["text"].get<std::string>(),
              HasSubstr("issuer \"https://login.example/" + std::string(kTenant) + "/v2.0\""));
  EXPECT_THAT(sign_in["fix"].get<std::string>(), HasSubstr("SignInAuthority must be the issuer"));
}

TEST_F(DoctorTest, ASkewedClockIsNamedWithItsFix) {
  // The tenant's clock 400 s behind: this machine is 400 s ahead, past the 5 minutes Entra allows.
  StartSim({"--clock-skew-seconds=-400"});
  json report;
  EXPECT_EQ(Doctor("", &report), 1);
  json graph = Finding(report, "graph endpoint");
  EXPECT_EQ(graph["verdict"], "failed") << report.dump(2);
  EXPECT_THAT(graph["text"].get<std::string>(), HasSubstr("s ahead of its clock"));
  EXPECT_THAT(graph["fix"].get<std::string>(), HasSubstr("timedatectl set-ntp true"));
  EXPECT_EQ(Verdict(report, "login endpoint"), "failed");

  // 90 s: a warning, until sign-in is on and this machine is behind by more than its tolerance.
  StartSim({"--clock-skew-seconds=90"});
  EXPECT_EQ(Doctor("", &report), 0) << report.dump(2);
  EXPECT_EQ(Verdict(report, "graph endpoint"), "warning");
  EXPECT_THAT(Finding(report, "graph endpoint")["text"].get<std::string>(),
              HasSubstr("s behind its clock"));
  json users = json::parse(Http("GET", sim_->url() + "/_sim/users").body);
  std::string approvers;
  for (const json& g : users["groups"]) {
    if (g["displayName"] == "Autopilot Approvers") approvers = g["id"];
  }
  const std::string sign_in = "SignInAuthority = \"" + sim_->url() + "/" + kTenant +
                              "/v2.0\"\nSignInClockSkewSeconds = 60\nApproverSecurityGroup = \"" +
                              approvers + "\"\n";
  EXPECT_EQ(Doctor(sign_in, &report), 1);
  json login = Finding(report, "login endpoint");
  EXPECT_EQ(login["verdict"], "failed") << report.dump(2);
  EXPECT_THAT(login["fix"].get<std::string>(), HasSubstr("SignInClockSkewSeconds (60 s)"));
}

TEST_F(DoctorTest, ASecretNearItsEndIsNamedWithTheDaysLeft) {
  // Without Application.Read.All (the default grant) Graph does not say: not a problem.
  StartSim();
  json report;
  EXPECT_EQ(Doctor("", &report), 0) << report.dump(2);
  json secret = Finding(report, "client secret");
  EXPECT_EQ(secret["verdict"], "ok");
  EXPECT_THAT(secret["text"].get<std::string>(),
              HasSubstr("only to an app with Application.Read.All"));

  // With it: 10 days left is a warning with the way to renew, 200 days is fine.
  const std::vector<std::string> roles = {
      "--app-role=DeviceManagementServiceConfig.ReadWrite.All",
      "--app-role=DeviceManagementManagedDevices.ReadWrite.All", "--app-role=Device.Read.All",
      "--app-role=GroupMember.ReadWrite.All", "--app-role=Application.Read.All"};
  std::vector<std::string> args = roles;
  args.push_back("--client-secret-end-days=10");
  StartSim(args);
  EXPECT_EQ(Doctor("", &report), 0) << report.dump(2);
  secret = Finding(report, "client secret");
  EXPECT_EQ(secret["verdict"], "warning") << report.dump(2);
  EXPECT_THAT(secret["text"].get<std::string>(), HasSubstr("the client secret ends in 10 days ("));
  EXPECT_THAT(secret["fix"].get<std::string>(), HasSubstr("add a new client secret"));

  args = roles;
  args.push_back("--client-secret-end-days=200");
  StartSim(args);
  EXPECT_EQ(Doctor("", &report), 0) << report.dump(2);
  EXPECT_EQ(Verdict(report, "client secret"), "ok");
  EXPECT_THAT(Finding(report, "client secret")["text"].get<std::string>(),
              HasSubstr("ends in 200 days"));
}

TEST_F(DoctorTest, ACertificateNearItsEndIsNamedWithTheDaysLeft) {
  const std::string dir = CertificateFor20Days("apm-doctor-cert-", "apm-server");
  ASSERT_FALSE(dir.empty());
  StartSim({"--client-certificate=" + dir + "/cert.pem"});
  json report;
  EXPECT_EQ(Doctor("ClientCertificateFile = \"" + dir + "/cert.pem\"\nClientPrivateKeyFile = \"" +
                       dir + "/key.pem\"\n",
                   &report, nullptr, ""),
            0)
      << report.dump(2);
  EXPECT_EQ(Verdict(report, "token"), "ok");
  json cert = Finding(report, "client certificate");
  EXPECT_EQ(cert["verdict"], "warning") << report.dump(2);
  EXPECT_THAT(cert["text"].get<std::string>(), HasSubstr("the certificate ends in 20 days ("));
  EXPECT_THAT(cert["fix"].get<std::string>(), HasSubstr("upload a new certificate"));
  EXPECT_EQ(Verdict(report, "client secret"), "absent") << "no secret to look at";
  std::filesystem::remove_all(dir);
}

TEST_F(DoctorTest, APublicUrlThatAnswersUntrustedAndEndsSoonIsNamed) {
  StartSim();
  json report;
  // The simulator's /healthz stands in for a server that answers at PublicUrl.
  EXPECT_EQ(Doctor("PublicUrl = \"" + sim_->url() + "\"\n", &report), 0) << report.dump(2);
  EXPECT_EQ(Verdict(report, "public URL"), "ok");
  EXPECT_EQ(Verdict(report, "public certificate"), "absent") << "plain http has none";

  // A server of ours with a self-signed certificate that ends in 20 days.
  const std::string dir = CertificateFor20Days("apm-doctor-tls-", "localhost");
  ASSERT_FALSE(dir.empty());
  ServerProcess tls("TlsCertificateFile = \"" + dir + "/cert.pem\"\nTlsKeyFile = \"" + dir +
                    "/key.pem\"\n");
  ASSERT_TRUE(tls.Start()) << tls.log();
  const std::string https = "https://127.0.0.1:" + std::to_string(tls.port());
  EXPECT_EQ(Doctor("PublicUrl = \"" + https + "\"\n", &report), 1);
  json url = Finding(report, "public URL");
  EXPECT_EQ(url["verdict"], "failed") << report.dump(2);
  EXPECT_THAT(url["text"].get<std::string>(), HasSubstr("with this machine's trust"));
  EXPECT_THAT(url["fix"].get<std::string>(), HasSubstr("a certificate devices and browsers trust"));
  json cert = Finding(report, "public certificate");
  EXPECT_EQ(cert["verdict"], "warning") << report.dump(2);
  EXPECT_THAT(cert["text"].get<std::string>(), HasSubstr("ends in 20 days"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace apm::itest
