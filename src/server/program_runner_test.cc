#include "server/program_runner.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

namespace apm {
namespace {

using ::testing::HasSubstr;

TEST(PosixProgramRunner, GivesTheExitCodeAndBothOutputs) {
  PosixProgramRunner runner;
  Result<ProgramOutcome> r = runner.Run({"sh", "-c", "echo out; echo err >&2; exit 3"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_THAT(r->output, HasSubstr("out\n"));
  EXPECT_THAT(r->output, HasSubstr("err\n"));
  EXPECT_EQ(runner.Run({"true"})->exit_code, 0);
}

TEST(PosixProgramRunner, AProgramThatIsNotInstalledIsAnError) {
  PosixProgramRunner runner;
  Result<ProgramOutcome> r = runner.Run({"apm-no-such-program-here", "--version"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(r.status().message(), HasSubstr("apm-no-such-program-here is not installed"));
}

TEST(PosixProgramRunner, AProgramThatHangsIsStoppedAfterTheTimeout) {
  PosixProgramRunner runner(std::chrono::seconds(1));
  auto started = std::chrono::steady_clock::now();
  Result<ProgramOutcome> r = runner.Run({"sleep", "30"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(r.status().message(), HasSubstr("did not finish within 1 s"));
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
}

TEST(PosixProgramRunner, TheChildGetsNoDescriptorOfOursAndSigpipeAsDefault) {
  // A descriptor that is not close-on-exec, like an Asio socket, numbered apart from the ones
  // the child opens itself; and SIGPIPE ignored, as apm-server does.
  int opened = ::open("/dev/null", O_RDONLY);
  int extra = ::fcntl(opened, F_DUPFD, 100);
  ::close(opened);
  ASSERT_GE(extra, 100);
  auto previous = ::signal(SIGPIPE, SIG_IGN);
  PosixProgramRunner runner;
  Result<ProgramOutcome> r =
      runner.Run({"sh", "-c", "ls /proc/self/fd | tr '\\n' ' '; grep SigIgn /proc/self/status"});
  ::signal(SIGPIPE, previous);
  ::close(extra);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->output.find(" " + std::to_string(extra) + " "), std::string::npos) << r->output;
  size_t at = r->output.find("SigIgn:");
  ASSERT_NE(at, std::string::npos) << r->output;
  unsigned long long ignored = std::stoull(r->output.substr(at + 7), nullptr, 16);
  EXPECT_EQ(ignored & (1ULL << (SIGPIPE - 1)), 0u) << "SIGPIPE is ignored in the child";
}

TEST(PosixProgramRunner, KeepsAtMost64KiBOfOutput) {
  PosixProgramRunner runner;
  Result<ProgramOutcome> r = runner.Run({"sh", "-c", "head -c 200000 /dev/zero"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 0);  // read to the end, so the program never blocks on a full pipe
  EXPECT_LE(r->output.size(), 64u * 1024 + 4096);
}

}  // namespace
}  // namespace apm
