#include "server/setup/setup_files.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "server/testing/temp_dir.h"

namespace apm {
namespace {

TEST(SetTomlKeys, ReplacesTopLevelLinesKeepsCommentsAndAddsTheRestUnderAHeading) {
  const std::string text =
      "# my settings\n"
      "Listen = \"127.0.0.1:8080\"\n"
      "#   ClientId = \"00000000-0000-0000-0000-000000000000\"\n"
      "ClientId = \"old\"  \n"
      "GroupTag = \"Kiosk\" # ours\n"
      "\n"
      "[table]\n"
      "ClientId = \"not top level\"\n";
  const std::string out = SetTomlKeys(text,
                                      {{"ClientId", TomlString("new")},
                                       {"TenantId", TomlString("t")},
                                       {"GroupTag", TomlString("Kiosk")}},
                                      "Written by setup");
  EXPECT_EQ(out,
            "# my settings\n"
            "Listen = \"127.0.0.1:8080\"\n"
            "#   ClientId = \"00000000-0000-0000-0000-000000000000\"\n"
            "ClientId = 'new'\n"
            "GroupTag = \"Kiosk\" # ours\n"
            "\n"
            "# Written by setup\n"
            "TenantId = 't'\n"
            "\n"
            "[table]\n"
            "ClientId = \"not top level\"\n");
  // Setting what is there changes nothing: a second run writes nothing.
  EXPECT_EQ(SetTomlKeys(out, {{"ClientId", TomlString("new")}, {"TenantId", TomlString("t")}},
                        "Written by setup"),
            out);
}

TEST(CheckToml, NamesTheLineOfAnError) {
  EXPECT_TRUE(CheckToml("A = 1\nB = \"x\"\n").ok());
  Status bad = CheckToml("A = 1\nB = \"x\n");
  EXPECT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("line 2"), std::string::npos) << bad.message();
}

TEST(SetTomlKeys, AddsToAnEmptyFile) {
  EXPECT_EQ(SetTomlKeys("", {{"UseAutopilotProfileGroup", "true"}}, "h"),
            "# h\nUseAutopilotProfileGroup = true\n");
}

TEST(TomlString, EscapesQuotesBackslashesAndControls) {
  EXPECT_EQ(TomlString("a\"b\\c\x01\x7f"), "\"a\\\"b\\\\c\\u0001\\u007F\"");
}

TEST(EnvFile, ReadsTheLastAssignmentAndSetsOneLineKeepingTheOthers) {
  const std::string text =
      "# secrets\nAPM_DATABASE_URL=postgres://x\nAPM_CLIENT_SECRET=one\n"
      "export APM_CLIENT_SECRET=\"two\"\n";
  EXPECT_EQ(EnvFileValue(text, "APM_CLIENT_SECRET"), "two");
  EXPECT_EQ(EnvFileValue(text, "APM_CLIENT"), std::nullopt);
  Result<std::string> set = SetEnvFileValue(text, "APM_CLIENT_SECRET", "a~b.c");
  ASSERT_TRUE(set.ok());
  EXPECT_EQ(*set, "# secrets\nAPM_DATABASE_URL=postgres://x\nAPM_CLIENT_SECRET='a~b.c'\n");
  EXPECT_EQ(EnvFileValue(*set, "APM_CLIENT_SECRET"), "a~b.c");
  EXPECT_EQ(*SetEnvFileValue("", "APM_CLIENT_SECRET", "s"), "APM_CLIENT_SECRET='s'\n");
  EXPECT_FALSE(SetEnvFileValue(text, "APM_CLIENT_SECRET", "it's").ok());
}

TEST(WriteTextFile, ReplacesTheFileWithTheGivenMode) {
  testing::ScopedTempDir dir("setup-files");
  const std::string path = (dir.path() / "apm.env").string();
  ASSERT_TRUE(WriteTextFile(path, "A=1\n", 0600).ok());
  EXPECT_EQ(*ReadTextFile(path), "A=1\n");
  struct stat file_info;
  ASSERT_EQ(::stat(path.c_str(), &file_info), 0);
  EXPECT_EQ(file_info.st_mode & 0777, 0600u);
  EXPECT_EQ(*ReadTextFile((dir.path() / "missing").string()), "");
}

}  // namespace
}  // namespace apm
