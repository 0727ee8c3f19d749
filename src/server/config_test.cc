#include "server/config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

namespace apm {
namespace {

std::string WriteFile(const std::string& text) {
  static int n = 0;
  std::string path =
      (std::filesystem::temp_directory_path() /
       ("apm-config-test-" + std::to_string(getpid()) + "-" + std::to_string(n++) + ".toml"))
          .string();
  std::ofstream(path) << text;
  return path;
}

TEST(Config, DefaultsAreSafeAndValid) {
  Result<Config> c = LoadConfig("", {});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->ApprovalMode);
  EXPECT_EQ(c->Timeout, 60);
  EXPECT_EQ(c->HistoryDays, 90);
  EXPECT_EQ(c->HashVerification, "enforce");
  EXPECT_TRUE(c->TrustedProxies.empty());
  EXPECT_EQ(c->MaxBodyBytes, 64 * 1024);
  EXPECT_EQ(c->MaxConnections, 0);  // from the open-file limit
  EXPECT_EQ(c->MaxConnectionsPerAddress, 256);
}

TEST(Config, ReadsTomlWithOriginalNamesAndCommaLists) {
  std::string path = WriteFile(R"(
ApprovalMode = false
Timeout = 15
UseManufacturersFilter = true
Manufacturers = "Microsoft Corporation, LENOVO"
Models = ["Surface Laptop 5", "21R3001BUK"]
TrustedProxies = ["10.0.0.0/8"]
SubmitRatePerMinute = 2.5
)");
  Result<Config> c = LoadConfig(path, {});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_FALSE(c->ApprovalMode);
  EXPECT_EQ(c->Timeout, 15);
  EXPECT_EQ(c->Manufacturers, (std::vector<std::string>{"Microsoft Corporation", "LENOVO"}));
  EXPECT_EQ(c->Models, (std::vector<std::string>{"Surface Laptop 5", "21R3001BUK"}));
  EXPECT_DOUBLE_EQ(c->SubmitRatePerMinute, 2.5);
  EXPECT_TRUE(c->allow_list().use_manufacturers);
}

// What `apm-server doctor` lists: every setting, where it came from, no secret.
TEST(Config, DescribedSettingsSayWhereTheyCameFromAndHideSecrets) {
  std::string path = WriteFile(
      "ApprovalMode = true\nDatabaseUrl = \"postgresql://apm:pa55@db.example/apm\"\n"
      "NotificationTeamsUrl = \"https://x.example/workflows/1/invoke?sig=abc\"\n"
      "ValidationFunctionKey = \"fn-key\"\nManufacturers = [\"Dell\", \"HP\"]\n");
  Result<Config> c = LoadConfig(path, {{"APM_CLIENT_SECRET", "s3cret"}}, /*check=*/false);
  ASSERT_TRUE(c.ok()) << c.status().message();
  std::map<std::string, SettingView> shown;
  for (SettingView& s : DescribeSettings(*c)) shown[s.key] = s;
  EXPECT_EQ(shown.size(), ConfigKeys().size());
  EXPECT_EQ(shown["ApprovalMode"].value, "true");
  EXPECT_EQ(shown["ApprovalMode"].source, path);
  EXPECT_EQ(shown["ClientSecret"].value, "(set, hidden)");
  EXPECT_EQ(shown["ClientSecret"].source, "APM_CLIENT_SECRET");
  EXPECT_EQ(shown["ValidationFunctionKey"].value, "(set, hidden)");
  EXPECT_EQ(shown["DatabaseUrl"].value, "postgresql://apm:(hidden)@db.example/apm");
  // libpq's other forms: a query, and key=value (spaces allowed around '=').
  for (const auto& [url, expected] : std::vector<std::pair<std::string, std::string>>{
           {"postgresql://db.example/apm?sslpassword=x&password=pa55",
            "postgresql://db.example/apm?(hidden)"},
           {"host=db.example sslpassword=x password = 'pa 55'", "(set, hidden)"}}) {
    Config other = *c;
    other.DatabaseUrl = url;
    for (const SettingView& s : DescribeSettings(other)) {
      if (s.key == "DatabaseUrl") {
        EXPECT_EQ(s.value, expected);
      }
    }
  }
  EXPECT_EQ(shown["NotificationTeamsUrl"].value, "https://x.example/workflows/1/invoke?(hidden)");
  EXPECT_EQ(shown["Manufacturers"].value, "Dell, HP");
  EXPECT_EQ(shown["Timeout"].source, "default");
  EXPECT_EQ(shown["SignInClientSecret"].value, "") << "an empty secret is shown as empty";
  for (const auto& [key, s] : shown) {
    for (const char* secret : {"s3cret", "pa55", "sig=abc", "fn-key"}) {
      EXPECT_EQ(s.value.find(secret), std::string::npos) << key;
    }
  }
}

TEST(Config, UnknownKeyIsNamed) {
  Result<Config> c = LoadConfig(WriteFile("ApprovalMod = true\n"), {});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("ApprovalMod"), std::string::npos);
}

TEST(Config, ReadsTheOriginalsHomePageKeysAndTheFrontDoorId) {
  std::string path = WriteFile(R"(
HomepageCompanyLogoImageUrl = "https://cdn.contoso.com/logo.png"
HomepageHeadlineSentenceApprovalMode = "Please call the helpdesk (+49 180-12345678)."
HomepageHeadlineSentenceNonApprovalMode = "Please scan the QR code to import the device."
CustomHomepageImportInstructions = "Press Shift+F10, then type:"
HideHomepageImportInstructions = true
HomepageImportCommandUrls = "https://apm.contoso.com/ap.exe, https://apm.contoso.com"
ShowHomepageApprovalLink = true
ShowHomepageHistoryLink = true
)");
  Result<Config> c = LoadConfig(
      path, {{"APM_REQUIRED_FRONT_DOOR_ID",
              "55ce4ed1-4b06-4bf1-b40e-4638452104da, 0b7a1f2e-9c3d-4e5f-8a6b-7c8d9e0f1a2b"}});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->HomepageCompanyLogoImageUrl, "https://cdn.contoso.com/logo.png");
  EXPECT_EQ(c->HomepageHeadlineSentenceApprovalMode,
            "Please call the helpdesk (+49 180-12345678).");
  EXPECT_TRUE(c->HideHomepageImportInstructions);
  EXPECT_EQ(c->HomepageImportCommandUrls.size(), 2u);
  EXPECT_TRUE(c->ShowHomepageApprovalLink && c->ShowHomepageHistoryLink);
  EXPECT_EQ(c->RequiredFrontDoorId.size(), 2u);
}

TEST(Config, RefusesHomePageAndFrontDoorValuesThatCannotBeServedSafely) {
  for (const auto& [line, key] : std::vector<std::pair<std::string, std::string>>{
           {"HomepageCompanyLogoImageUrl = \"http://cdn.contoso.com/logo.png\"",
            "HomepageCompanyLogoImageUrl"},
           {"HomepageCompanyLogoImageUrl = \"https://cdn.contoso.com/a.png; script-src *\"",
            "HomepageCompanyLogoImageUrl"},
           {"HomepageCompanyLogoImageUrl = \"https://cdn.contoso.com/a\\\"onerror=x\"",
            "HomepageCompanyLogoImageUrl"},
           {"HomepageCompanyLogoImageUrl = \"javascript:alert(1)\"", "HomepageCompanyLogoImageUrl"},
           {"HomepageImportCommandUrls = \"https://apm.contoso.com/ap.exe\"",
            "HomepageImportCommandUrls"},
           {"HomepageImportCommandUrls = [\"https://a/ap.exe\", \"https://a & calc\"]",
            "HomepageImportCommandUrls"},
           {"RequiredFrontDoorId = \"my-front-door\"", "RequiredFrontDoorId"},
           {"HomepageCompanyLogoImageUrl = \"https://[2001:db8::1]/logo.png\"",
            "HomepageCompanyLogoImageUrl"},
           {"HomepageImportCommandUrls = [\"https://a/ap[1-3].exe\", \"https://a\"]",
            "HomepageImportCommandUrls"},
           {"HomepageImportCommandUrls = [\"https://a/%temp%/ap.exe\", \"https://a\"]",
            "HomepageImportCommandUrls"},
           {"HomepageHeadlineSentenceApprovalMode = \"" + std::string(4001, 'x') + "\"",
            "HomepageHeadlineSentenceApprovalMode"},
       }) {
    Result<Config> c = LoadConfig(WriteFile(line + "\n"), {});
    ASSERT_FALSE(c.ok()) << line;
    EXPECT_EQ(c.status().message().rfind(key, 0), 0u) << c.status().message();
  }
  // What is legitimate stays accepted: signed links, ports, escapes.
  Result<Config> signed_link = LoadConfig(
      WriteFile(
          "HomepageImportCommandUrls = [\"https://files.contoso.com:8443/ap.exe?sv=1&sig=a%2Fb\", "
          "\"https://apm.contoso.com\"]\nHomepageCompanyLogoImageUrl = "
          "\"https://cdn.contoso.com/logo.png?v=2&size=64\"\n"),
      {});
  EXPECT_TRUE(signed_link.ok()) << signed_link.status().ToString();
  Result<Config> original = LoadConfig(WriteFile("\"X-Azure-FDID\" = \"x\"\n"), {});
  ASSERT_FALSE(original.ok());
  EXPECT_NE(original.status().message().find("RequiredFrontDoorId"), std::string::npos);
}

TEST(Config, WrongTypeIsNamed) {
  Result<Config> c = LoadConfig(WriteFile("Timeout = \"sixty\"\n"), {});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("Timeout must be an integer"), std::string::npos);
}

TEST(Config, SyntaxErrorHasLine) {
  Result<Config> c = LoadConfig(WriteFile("Timeout = 1\nApprovalMode = \n"), {});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find(":2:"), std::string::npos) << c.status().message();
}

TEST(Config, MissingRequiredValueIsNamed) {
  Result<Config> c = LoadConfig(WriteFile("UseAutopilotProfileGroup = true\n"), {});
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("AutopilotProfileGroup"), std::string::npos);
  Result<Config> tls = LoadConfig(WriteFile("TlsCertificateFile = \"/x.pem\"\n"), {});
  ASSERT_FALSE(tls.ok());
  EXPECT_NE(tls.status().message().find("TlsKeyFile"), std::string::npos);
}

TEST(Config, EnvironmentOverridesFile) {
  std::string path = WriteFile("Timeout = 15\nApprovalMode = true\n");
  Result<Config> c = LoadConfig(path, {{"APM_TIMEOUT", "5"},
                                       {"APM_APPROVAL_MODE", "false"},
                                       {"APM_MODELS", "A,B"},
                                       {"APM_HASH_VERIFICATION", "warn"}});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->Timeout, 5);
  EXPECT_FALSE(c->ApprovalMode);
  EXPECT_EQ(c->Models, (std::vector<std::string>{"A", "B"}));
  EXPECT_EQ(c->hash_verification_mode(), HashVerificationMode::kWarn);
}

TEST(Config, BadEnvironmentIsNamed) {
  Result<Config> unknown = LoadConfig("", {{"APM_NOPE", "1"}});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("APM_NOPE"), std::string::npos);
  Result<Config> wrong = LoadConfig("", {{"APM_TIMEOUT", "soon"}});
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("APM_TIMEOUT"), std::string::npos);
}

TEST(Config, EnvNames) {
  EXPECT_EQ(EnvName("ApprovalMode"), "APM_APPROVAL_MODE");
  EXPECT_EQ(EnvName("UseApprovalUserAsAssignedUser"), "APM_USE_APPROVAL_USER_AS_ASSIGNED_USER");
  EXPECT_EQ(EnvName("Timeout"), "APM_TIMEOUT");
  // Every key has a distinct variable.
  std::set<std::string> seen;
  for (const std::string& k : ConfigKeys()) EXPECT_TRUE(seen.insert(EnvName(k)).second) << k;
}

TEST(Config, RejectsNotANumberAndOutOfRange) {
  EXPECT_FALSE(LoadConfig("", {{"APM_SUBMIT_RATE_PER_MINUTE", "nan"}}).ok());
  EXPECT_FALSE(LoadConfig("", {{"APM_MAX_WAIT_SECONDS", "61"}}).ok());
  Result<Config> negative = LoadConfig("", {{"APM_MAX_CONNECTIONS_PER_ADDRESS", "-1"}});
  ASSERT_FALSE(negative.ok());
  EXPECT_NE(negative.status().message().find("MaxConnectionsPerAddress"), std::string::npos);
  EXPECT_EQ(LoadConfig("", {{"APM_MAX_CONNECTIONS", "5000"}})->MaxConnections, 5000);
}

TEST(Config, RejectsBadEnumValues) {
  EXPECT_FALSE(LoadConfig("", {{"APM_HASH_VERIFICATION", "maybe"}}).ok());
  EXPECT_FALSE(LoadConfig("", {{"APM_LOG_FORMAT", "xml"}}).ok());
}

TEST(Config, GraphSettingsAreAllOrNothing) {
  // No tenant: valid, imports off.
  Result<Config> none = LoadConfig("", {});
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->graph_configured());

  std::string tenant = "TenantId = \"contoso.example\"\nClientId = \"app-1\"\n";
  Result<Config> no_secret = LoadConfig(WriteFile(tenant), {});
  ASSERT_FALSE(no_secret.ok());
  EXPECT_NE(no_secret.status().message().find("APM_CLIENT_SECRET"), std::string::npos);

  Result<Config> secret = LoadConfig(WriteFile(tenant), {{"APM_CLIENT_SECRET", "s"}});
  ASSERT_TRUE(secret.ok()) << secret.status().ToString();
  EXPECT_TRUE(secret->graph_configured());
  EXPECT_EQ(secret->GraphEndpoint, "https://graph.microsoft.com");

  Result<Config> both = LoadConfig(WriteFile(tenant + "ClientCertificateFile = \"/c.pem\"\n"),
                                   {{"APM_CLIENT_SECRET", "s"}});
  ASSERT_FALSE(both.ok());
  EXPECT_NE(both.status().message().find("exactly one"), std::string::npos);

  Result<Config> no_client = LoadConfig(WriteFile("TenantId = \"t\"\n"), {});
  ASSERT_FALSE(no_client.ok());
  EXPECT_NE(no_client.status().message().find("ClientId"), std::string::npos);

  Result<Config> no_tenant = LoadConfig("", {{"APM_CLIENT_ID", "app-1"}});
  ASSERT_FALSE(no_tenant.ok());
  EXPECT_NE(no_tenant.status().message().find("TenantId"), std::string::npos);

  Result<Config> bad_poll = LoadConfig("", {{"APM_IMPORT_POLL_MIN_SECONDS", "0"}});
  ASSERT_FALSE(bad_poll.ok());
  EXPECT_NE(bad_poll.status().message().find("ImportPollMinSeconds"), std::string::npos);

  Result<Config> bad_endpoint = LoadConfig(
      WriteFile(tenant + "GraphEndpoint = \"graph.example\"\n"), {{"APM_CLIENT_SECRET", "s"}});
  ASSERT_FALSE(bad_endpoint.ok());
  EXPECT_NE(bad_endpoint.status().message().find("GraphEndpoint"), std::string::npos);
}

}  // namespace
}  // namespace apm
