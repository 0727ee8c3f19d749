#include "server/program_runner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

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
  EXPECT_THAT(r.status().message(), HasSubstr("apm-no-such-program-here cannot be started"));
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
