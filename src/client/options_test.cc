#include "client/options.h"

#include "client/catalogue.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace apm::client {
namespace {

using ::testing::HasSubstr;

TEST(OptionsTest, ServerInAnyPosition) {
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"apm.contoso.com", "-v", "--skip-checks"},
                                             {"-v", "apm.contoso.com", "--skip-checks"},
                                             {"-v", "--skip-checks", "apm.contoso.com"}}) {
    Result<ClientOptions> o = ParseOptions(args);
    ASSERT_TRUE(o.ok()) << o.status().ToString();
    EXPECT_EQ(o->server, "apm.contoso.com");
    EXPECT_TRUE(o->verbose);
    EXPECT_TRUE(o->skip_checks);
    EXPECT_FALSE(o->check_only);
  }
}

TEST(OptionsTest, ShortFormsOfTheOriginalClient) {
  Result<ClientOptions> o = ParseOptions({"-s", "-i", "-n", "-q", "x.example"});
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_TRUE(o->skip_checks);
  EXPECT_TRUE(o->ignore_profile);
  EXPECT_TRUE(o->no_wait);
  EXPECT_TRUE(o->quiet);
  o = ParseOptions({"-c", "x.example"});
  ASSERT_TRUE(o.ok());
  EXPECT_TRUE(o->check_only);
  o = ParseOptions({"-e", "x.example"});
  ASSERT_TRUE(o.ok());
  EXPECT_TRUE(o->remove_intune_record);
  o = ParseOptions({"--remove-intune-record", "x.example"});
  ASSERT_TRUE(o.ok());
  EXPECT_TRUE(o->remove_intune_record);
  o = ParseOptions({"-u", "x.example"});
  ASSERT_TRUE(o.ok());
  EXPECT_TRUE(o->corporate_identifier);
  EXPECT_FALSE(ParseOptions({"-u", "-e", "x.example"}).ok());
}

TEST(OptionsTest, ValuesOfFileOptions) {
  Result<ClientOptions> o = ParseOptions(
      {"--device-file", "dev.json", "x.example", "--state-dir=/tmp/s", "--allow-http", "--reboot"});
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->device_file, "dev.json");
  EXPECT_EQ(o->state_dir, "/tmp/s");
  EXPECT_TRUE(o->allow_http);
  EXPECT_TRUE(o->reboot);
}

TEST(OptionsTest, ErrorsNameWhatWasWrong) {
  Result<ClientOptions> o = ParseOptions({"--frobnicate", "x.example"});
  ASSERT_FALSE(o.ok());
  EXPECT_THAT(o.status().message(), HasSubstr("--frobnicate"));

  o = ParseOptions({"-v"});
  ASSERT_FALSE(o.ok());
  EXPECT_THAT(o.status().message(), HasSubstr("server is missing"));

  o = ParseOptions({"a.example", "b.example"});
  ASSERT_FALSE(o.ok());
  EXPECT_THAT(o.status().message(), HasSubstr("b.example"));

  o = ParseOptions({"x.example", "--device-file", "a.json", "--oa3-report", "OA3.xml"});
  ASSERT_FALSE(o.ok());
  EXPECT_THAT(o.status().message(), HasSubstr("--oa3-report"));

  o = ParseOptions({"x.example", "--device-file"});
  ASSERT_FALSE(o.ok());
  EXPECT_THAT(o.status().message(), HasSubstr("device-file"));
}

TEST(OptionsTest, HelpNeedsNoServerAndListsExitCodes) {
  Result<ClientOptions> o = ParseOptions({"-h"});
  ASSERT_TRUE(o.ok());
  EXPECT_TRUE(o->show_help);
  EXPECT_THAT(HelpText(), HasSubstr("--check-only"));
  EXPECT_THAT(HelpText(), HasSubstr("Exit codes"));
  EXPECT_THAT(HelpText(), HasSubstr("806"));
  o = ParseOptions({"--version"});
  ASSERT_TRUE(o.ok());
  EXPECT_TRUE(o->show_version);
}

TEST(OptionsTest, LanguageNamesASupportedOneOrIsRefused) {
  Result<ClientOptions> o = ParseOptions({"--language", "de-AT", "x.example"});
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->language, "de");
  o = ParseOptions({"--language=klingon", "x.example"});
  ASSERT_FALSE(o.ok());
  EXPECT_THAT(o.status().message(), HasSubstr("\"klingon\""));
  EXPECT_THAT(o.status().message(), HasSubstr("pt-BR"));
}

TEST(OptionsTest, DiagnosticsNeedNoServerAndRefuseWhatShapesARegistration) {
  Result<ClientOptions> o = ParseOptions({"--collect-diagnostics", "--diagnostics-folder", "E:\\"});
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->diagnostics_folder, "E:\\");
  o = ParseOptions({"--diagnostics-folder", "E:\\", "x.example"});
  ASSERT_FALSE(o.ok());
  EXPECT_THAT(o.status().message(), HasSubstr("--collect-diagnostics"));
  o = ParseOptions({"--collect-diagnostics", "--no-wait", "x.example"});
  ASSERT_FALSE(o.ok());
  EXPECT_THAT(o.status().message(), HasSubstr("--no-wait"));
}

TEST(OptionsTest, TheLanguageComesFromTheCommandLineElseTheSystem) {
  ASSERT_TRUE(ParseOptionsInLanguage({"x.example"}, {"sv-SE", "fr-FR"}).ok());
  EXPECT_EQ(CurrentLanguage(), "fr");
  ASSERT_TRUE(ParseOptionsInLanguage({"--language", "ja", "x.example"}, {"fr-FR"}).ok());
  EXPECT_EQ(CurrentLanguage(), "ja");
  EXPECT_THAT(HelpText(), HasSubstr(TranslationOf("ja", Msg::kHelpExitCodes)));
  // An error is told in the language asked for, even when it comes before --language.
  Result<ClientOptions> o = ParseOptionsInLanguage({"--bogus", "--language=de"}, {"fr"});
  ASSERT_FALSE(o.ok());
  std::string german = TranslationOf("de", Msg::kErrorUnknownOption);
  german.replace(german.find("{1}"), 3, "--bogus");
  EXPECT_EQ(o.status().message(), german);
  EXPECT_EQ(CurrentLanguage(), "de");
  ASSERT_TRUE(ParseOptionsInLanguage({"x.example"}, {}).ok());
  EXPECT_EQ(CurrentLanguage(), "en");
}

}  // namespace
}  // namespace apm::client
