#include "server/client_signing.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/sha256.h"
#include "core/text.h"
#include "server/logging.h"

namespace apm {
namespace {

// The whole file, or nullopt when it cannot be read.
std::optional<std::string> ReadWhole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return bytes.str();
}

// osslsigncode's own words, trimmed to what fits a log line and an error.
std::string SignerSays(const std::string& output) {
  return TruncateUtf8(Trim(output), 600);
}

}  // namespace

std::vector<std::string> SigningCommand(const Config& config, const std::string& in,
                                        const std::string& out) {
  std::vector<std::string> argv = {"osslsigncode",
                                   "sign",
                                   "-certs",
                                   config.ClientSigningCertificateFile,
                                   "-key",
                                   config.ClientSigningKeyFile.empty()
                                       ? config.ClientSigningCertificateFile
                                       : config.ClientSigningKeyFile,
                                   "-h",
                                   "sha256",
                                   "-n",
                                   "Autopilot Manager client"};
  if (!config.PublicUrl.empty()) {
    argv.insert(argv.end(), {"-i", config.PublicUrl});
  }
  argv.insert(argv.end(), {"-in", in, "-out", out});
  return argv;
}

Result<ServedClient> PrepareWindowsClient(const Config& config, ProgramRunner& runner) {
  ServedClient served;
  const std::string& original = config.ClientWindowsBinary;
  const bool sign = !config.ClientSigningCertificateFile.empty();
  std::error_code ec;
  if (original.empty() || !std::filesystem::is_regular_file(original, ec)) {
    if (sign) {
      return Status::FailedPrecondition(
          "ClientSigningCertificateFile is set, but there is no client to sign: "
          "ClientWindowsBinary (" +
          original + ") is not a readable file" + (ec ? " (" + ec.message() + ")" : ""));
    }
    return served;
  }
  served.path = original;
  if (sign) {
    std::filesystem::path dir = std::filesystem::path(config.DataDir) / "clients";
    std::filesystem::create_directories(dir, ec);
    if (ec) return Status::Internal("cannot create " + dir.string() + ": " + ec.message());
    std::string out = (dir / "ap.exe").string();
    // Instances on PostgreSQL may share a DataDir: each signs under a name of its own.
    std::string partial = out + ".signing-" + std::to_string(::getpid());
    std::filesystem::remove(partial, ec);  // osslsigncode will not write over a file
    Result<ProgramOutcome> ran = runner.Run(SigningCommand(config, original, partial));
    if (!ran.ok() || ran->exit_code != 0) std::filesystem::remove(partial, ec);
    if (!ran.ok()) {
      bool missing = ran.status().code() == StatusCode::kNotFound;
      return Status::FailedPrecondition(
          std::string("ClientSigningCertificateFile is set, but ") +
          (missing ? "osslsigncode is not installed (apt install osslsigncode)"
                   : "osslsigncode did not run") +
          ": " + ran.status().message());
    }
    if (ran->exit_code != 0) {
      return Status::FailedPrecondition(
          "signing " + original + " with " + config.ClientSigningCertificateFile +
          " failed (osslsigncode exit " + std::to_string(ran->exit_code) +
          "): " + SignerSays(ran->output));
    }
    std::filesystem::rename(partial, out, ec);
    if (ec) {
      std::string why = ec.message();
      std::filesystem::remove(partial, ec);
      return Status::Internal("cannot move the signed client to " + out + ": " + why);
    }
    served.path = out;
    served.signed_here = true;
  }
  std::optional<std::string> bytes = ReadWhole(served.path);
  if (!bytes) return Status::Internal("cannot read " + served.path);
  Sha256Digest digest = Sha256(*bytes);
  served.sha256 = ToHex(digest.data(), digest.size());
  LogInfo("client served at /ap.exe",
          {{"file", served.path}, {"sha256", served.sha256}, {"signed", served.signed_here}});
  return served;
}

}  // namespace apm
