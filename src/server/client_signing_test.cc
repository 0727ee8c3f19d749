#include "server/client_signing.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include <unistd.h>

#include "core/sha256.h"
#include "server/testing/temp_dir.h"

namespace apm {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Plays osslsigncode: records the command and writes "signed:" and the input to -out, or fails
// as told.
class FakeSigner : public ProgramRunner {
 public:
  Result<ProgramOutcome> Run(const std::vector<std::string>& argv) override {
    commands.push_back(argv);
    if (!installed) return Status::NotFound("osslsigncode is not installed (not in PATH)");
    if (broken) return Status::Internal("osslsigncode cannot be started: Permission denied");
    if (exit_code != 0) return ProgramOutcome{exit_code, "Failed to read private key\n"};
    std::ifstream in(argv[argv.size() - 3], std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    std::ofstream(argv.back(), std::ios::binary) << "signed:" << bytes.str();
    return ProgramOutcome{0, "Succeeded\n"};
  }
  std::vector<std::vector<std::string>> commands;
  bool installed = true;
  bool broken = false;
  int exit_code = 0;
};

std::string HexSha256(const std::string& bytes) {
  Sha256Digest d = Sha256(bytes);
  return ToHex(d.data(), d.size());
}

class ClientSigningTest : public ::testing::Test {
 protected:
  ClientSigningTest() : dir_("apm-signing") {
    config_.DataDir = (dir_.path() / "data").string();
    config_.ClientWindowsBinary = (dir_.path() / "ap.exe").string();
    std::ofstream(config_.ClientWindowsBinary, std::ios::binary) << "MZ the client";
  }
  void SignWith(const std::string& certificate, const std::string& key = "") {
    config_.ClientSigningCertificateFile = certificate;
    config_.ClientSigningKeyFile = key;
  }
  testing::ScopedTempDir dir_;
  Config config_;
  FakeSigner signer_;
};

TEST_F(ClientSigningTest, WithoutSigningServesTheFileAsItIsWithItsHash) {
  Result<ServedClient> served = PrepareWindowsClient(config_, signer_);
  ASSERT_TRUE(served.ok()) << served.status().ToString();
  EXPECT_EQ(served->path, config_.ClientWindowsBinary);
  EXPECT_EQ(served->sha256, HexSha256("MZ the client"));
  EXPECT_FALSE(served->signed_here);
  EXPECT_TRUE(signer_.commands.empty());
  // No client installed: nothing to serve, and no error (/ap.exe answers 404).
  config_.ClientWindowsBinary = (dir_.path() / "missing.exe").string();
  served = PrepareWindowsClient(config_, signer_);
  ASSERT_TRUE(served.ok());
  EXPECT_EQ(served->path, "");
  EXPECT_EQ(served->sha256, "");
}

TEST_F(ClientSigningTest, SignsACopyOnceAndServesIt) {
  SignWith("/etc/apm/signing.pem", "/etc/apm/signing.key");
  config_.PublicUrl = "https://apm.contoso.com";
  Result<ServedClient> served = PrepareWindowsClient(config_, signer_);
  ASSERT_TRUE(served.ok()) << served.status().ToString();
  std::string out = config_.DataDir + "/clients/ap.exe";
  EXPECT_EQ(served->path, out);
  EXPECT_TRUE(served->signed_here);
  EXPECT_EQ(served->sha256, HexSha256("signed:MZ the client"));
  ASSERT_EQ(signer_.commands.size(), 1u);
  EXPECT_THAT(signer_.commands[0],
              ElementsAre("osslsigncode", "sign", "-certs", "/etc/apm/signing.pem", "-key",
                          "/etc/apm/signing.key", "-h", "sha256", "-n", "Autopilot Manager client",
                          "-i", "https://apm.contoso.com", "-in", config_.ClientWindowsBinary,
                          "-out", out + ".signing-" + std::to_string(::getpid())));
  EXPECT_FALSE(std::filesystem::exists(signer_.commands[0].back()));
  // The original stays as the package installed it.
  std::ifstream original(config_.ClientWindowsBinary);
  std::string text((std::istreambuf_iterator<char>(original)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "MZ the client");
}

TEST_F(ClientSigningTest, TheKeyMayShareTheCertificatesFile) {
  SignWith("/etc/apm/signing.pem");
  ASSERT_TRUE(PrepareWindowsClient(config_, signer_).ok());
  EXPECT_EQ(signer_.commands[0][5], "/etc/apm/signing.pem");
}

TEST_F(ClientSigningTest, AFailedSigningStopsStartUpWithTheReason) {
  SignWith("/etc/apm/signing.pem", "/etc/apm/wrong.key");
  signer_.exit_code = 1;
  Result<ServedClient> failed = PrepareWindowsClient(config_, signer_);
  ASSERT_FALSE(failed.ok());
  EXPECT_THAT(failed.status().message(),
              HasSubstr("/etc/apm/signing.pem failed (osslsigncode exit 1)"));
  EXPECT_THAT(failed.status().message(), HasSubstr("Failed to read private key"));
  EXPECT_FALSE(std::filesystem::exists(config_.DataDir + "/clients/ap.exe"));

  signer_.installed = false;
  failed = PrepareWindowsClient(config_, signer_);
  ASSERT_FALSE(failed.ok());
  EXPECT_THAT(failed.status().message(), HasSubstr("apt install osslsigncode"));

  signer_.installed = true;
  signer_.broken = true;
  failed = PrepareWindowsClient(config_, signer_);
  ASSERT_FALSE(failed.ok());
  EXPECT_THAT(failed.status().message(), HasSubstr("osslsigncode did not run"));
  EXPECT_THAT(failed.status().message(), HasSubstr("Permission denied"));

  signer_.broken = false;
  signer_.exit_code = 0;
  config_.ClientWindowsBinary = (dir_.path() / "missing.exe").string();
  failed = PrepareWindowsClient(config_, signer_);
  ASSERT_FALSE(failed.ok());
  EXPECT_THAT(failed.status().message(), HasSubstr("no client to sign"));
}

}  // namespace
}  // namespace apm
