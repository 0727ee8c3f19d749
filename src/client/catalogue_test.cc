#include "client/catalogue.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>

#include "client/catalogue_tables.h"
#include "client/messages.h"
#include "client/server_api.h"
#include "client/ui_language.h"

namespace apm::client {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// Sets the language for one test and puts English back after it.
class ScopedLanguage {
 public:
  explicit ScopedLanguage(std::string_view tag) { EXPECT_TRUE(SetLanguage(tag)) << tag; }
  ~ScopedLanguage() { SetLanguage("en"); }
};

std::vector<Msg> AllMessages() {
  std::vector<Msg> all;
  for (int i = 0; i < kMsgCount; ++i) all.push_back(static_cast<Msg>(i));
  return all;
}

// How often each {n} occurs.
std::map<std::string, int> Placeholders(const std::string& text) {
  std::map<std::string, int> found;
  static const std::regex placeholder(R"(\{[1-9]\})");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), placeholder);
       it != std::sregex_iterator(); ++it) {
    ++found[it->str()];
  }
  return found;
}

// What a translation must keep as written: options (--oa3-report) and `commands`.
std::set<std::string> Literals(const std::string& text) {
  std::set<std::string> found;
  static const std::regex literal(R"(--[a-z0-9][a-z0-9-]*|`[^`]+`)");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), literal);
       it != std::sregex_iterator(); ++it) {
    found.insert(it->str());
  }
  return found;
}

bool IsValidUtf8(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    const unsigned char lead = static_cast<unsigned char>(text[i]);
    const size_t length = lead < 0x80         ? 1
                          : (lead >> 5) == 6  ? 2
                          : (lead >> 4) == 14 ? 3
                          : (lead >> 3) == 30 ? 4
                                              : 0;
    if (length == 0 || i + length > text.size()) return false;
    for (size_t k = 1; k < length; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) >> 6) != 2) return false;
    }
    i += length;
  }
  return true;
}

// The letter after '&' (a button's access key), lower-cased.
char AccessKey(const std::string& caption) {
  const size_t at = caption.find('&');
  return at + 1 < caption.size() ? static_cast<char>(std::tolower(caption[at + 1])) : '\0';
}

TEST(CatalogueTest, TheElevenLanguagesTheIssueNames) {
  EXPECT_THAT(SupportedLanguages(), ElementsAre("en", "de", "fr", "es", "it", "nl", "pt-BR", "pl",
                                                "ja", "zh-Hans", "ko"));
}

TEST(CatalogueTest, EveryLanguageHasEveryMessageWithItsPlaceholdersAndLiterals) {
  for (std::string_view tag : SupportedLanguages()) {
    for (Msg id : AllMessages()) {
      SCOPED_TRACE(std::string(tag) + " " + std::string(MsgName(id)));
      const char* english = TranslationOf("en", id);
      const char* text = TranslationOf(tag, id);
      ASSERT_NE(english, nullptr);
      ASSERT_NE(text, nullptr) << "missing";
      EXPECT_STRNE(text, "") << "empty";
      EXPECT_TRUE(IsValidUtf8(text));
      EXPECT_EQ(Placeholders(text), Placeholders(english)) << text;
      for (const std::string& literal : Literals(english)) {
        EXPECT_THAT(text, HasSubstr(literal)) << "keep as written";
      }
    }
  }
}

TEST(CatalogueTest, NoTableHasAMessageTwice) {
  for (const LanguageTable* table : LanguageTables()) {
    std::map<Msg, int> seen;
    for (const Translation& entry : table->texts) ++seen[entry.id];
    for (const auto& [id, count] : seen) {
      // Text() uses the first: a second one would be dead text that a translator edits in vain.
      EXPECT_EQ(count, 1) << table->tag << " " << MsgName(id);
    }
    EXPECT_EQ(table->texts.size(), static_cast<size_t>(kMsgCount)) << table->tag;
  }
}

TEST(CatalogueTest, ButtonsShownTogetherHaveDistinctAccessKeys) {
  for (std::string_view tag : SupportedLanguages()) {
    SCOPED_TRACE(tag);
    for (Msg button : {Msg::kButtonRestart, Msg::kButtonRetry, Msg::kButtonClose,
                       Msg::kButtonCollectDiagnostics}) {
      const std::string caption = TranslationOf(tag, button);
      EXPECT_EQ(std::count(caption.begin(), caption.end(), '&'), 1) << caption;
      EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(AccessKey(caption)))) << caption;
    }
    // The window shows Restart and Close when done, Retry, Collect diagnostics and Close when not.
    const char close = AccessKey(TranslationOf(tag, Msg::kButtonClose));
    const char retry = AccessKey(TranslationOf(tag, Msg::kButtonRetry));
    const char collect = AccessKey(TranslationOf(tag, Msg::kButtonCollectDiagnostics));
    EXPECT_NE(AccessKey(TranslationOf(tag, Msg::kButtonRestart)), close);
    EXPECT_NE(retry, close);
    EXPECT_NE(collect, close);
    EXPECT_NE(collect, retry);
  }
}

TEST(CatalogueTest, YesLettersAreAsciiLetters) {
  // The console compares the first byte of the answer: a multi-byte letter would match others.
  for (std::string_view tag : SupportedLanguages()) {
    const std::string letters = TranslationOf(tag, Msg::kYesLetters);
    EXPECT_TRUE(std::all_of(letters.begin(), letters.end(),
                            [](char c) {
                              return std::isalpha(static_cast<unsigned char>(c)) &&
                                     static_cast<unsigned char>(c) < 0x80;
                            }))
        << tag << ": " << letters;
  }
}

TEST(CatalogueTest, TextFillsPlaceholdersInTheTranslationsOrder) {
  EXPECT_EQ(Text(Msg::kErrorCannotCombine, {"--a", "--b"}), "--a and --b cannot be used together");
  EXPECT_EQ(Text(Msg::kRestartingIn, {"9"}), "Restarting in 9 s");
  // Missing arguments leave the placeholder visible rather than reading past the list.
  EXPECT_EQ(Text(Msg::kErrorCannotCombine, {"--a"}), "--a and {2} cannot be used together");
  ScopedLanguage japanese("ja");
  const std::string text = Text(Msg::kRequestGoneDetail, {"REQ-1"});
  EXPECT_THAT(text, HasSubstr("REQ-1"));
  EXPECT_THAT(text, ::testing::Not(HasSubstr("{1}")));
}

TEST(CatalogueTest, SetLanguageRefusesWhatItDoesNotHave) {
  EXPECT_FALSE(SetLanguage("tlh"));
  EXPECT_FALSE(SetLanguage("de-DE"));  // a tag, not a name: MatchLanguage first
  EXPECT_EQ(CurrentLanguage(), "en");
  ScopedLanguage german("de");
  EXPECT_EQ(CurrentLanguage(), "de");
}

TEST(MatchLanguageTest, NamesFromWindowsAndPosix) {
  EXPECT_EQ(MatchLanguage("de-DE"), "de");
  EXPECT_EQ(MatchLanguage("de_AT.UTF-8@euro"), "de");
  EXPECT_EQ(MatchLanguage("FR-ca"), "fr");
  EXPECT_EQ(MatchLanguage("pt-BR"), "pt-BR");
  EXPECT_EQ(MatchLanguage("pt_PT.UTF-8"), "pt-BR");
  EXPECT_EQ(MatchLanguage("zh-CN"), "zh-Hans");
  EXPECT_EQ(MatchLanguage("zh-Hans-SG"), "zh-Hans");
  EXPECT_EQ(MatchLanguage("zh_CN.GB18030"), "zh-Hans");
  EXPECT_EQ(MatchLanguage("zh-TW"), "");
  EXPECT_EQ(MatchLanguage("zh-Hant-HK"), "");
  EXPECT_EQ(MatchLanguage("ja-JP"), "ja");
  EXPECT_EQ(MatchLanguage("ko_KR.UTF-8"), "ko");
  EXPECT_EQ(MatchLanguage("en-GB"), "en");
  EXPECT_EQ(MatchLanguage("sv-SE"), "");
  EXPECT_EQ(MatchLanguage("C"), "");
  EXPECT_EQ(MatchLanguage("POSIX"), "");
  EXPECT_EQ(MatchLanguage(""), "");
}

TEST(MatchLanguageTest, ChooseTakesTheFirstItHasElseEnglish) {
  EXPECT_EQ(ChooseLanguage({"sv-SE", "zh-TW", "nl-BE", "de-DE"}), "nl");
  EXPECT_EQ(ChooseLanguage({"sv-SE", "fi-FI"}), "en");
  EXPECT_EQ(ChooseLanguage({}), "en");
}

TEST(LocaleLanguagesTest, FollowsGettextsOrder) {
  std::map<std::string, std::string> env;
  auto lookup = [&](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  };
  EXPECT_THAT(LocaleLanguages(lookup), IsEmpty());
  env["LANG"] = "de_DE.UTF-8";
  EXPECT_THAT(LocaleLanguages(lookup), ElementsAre("de_DE.UTF-8"));
  env["LC_MESSAGES"] = "fr_FR.UTF-8";
  EXPECT_THAT(LocaleLanguages(lookup), ElementsAre("fr_FR.UTF-8"));
  env["LC_ALL"] = "ja_JP.UTF-8";
  env["LANGUAGE"] = "ko:pt_BR::en";
  EXPECT_THAT(LocaleLanguages(lookup), ElementsAre("ko", "pt_BR", "en", "ja_JP.UTF-8"));
  env["LC_ALL"] = "C.UTF-8";  // gettext ignores LANGUAGE in the C locale
  EXPECT_THAT(LocaleLanguages(lookup), IsEmpty());
}

RequestStatus StatusOf(RequestState state, std::optional<RequestError> error = std::nullopt) {
  RequestStatus status;
  status.state = state;
  status.terminal = IsTerminal(state);
  status.error = std::move(error);
  return status;
}

TEST(TranslatedMessagesTest, RequestStatesAreShownInTheChosenLanguage) {
  ScopedLanguage german("de");
  EXPECT_EQ(DescribeRequest(StatusOf(RequestState::kPendingApproval)).headline,
            TranslationOf("de", Msg::kPendingHeadline));
  const StatusMessage rejected = DescribeRequest(
      StatusOf(RequestState::kRejected, RequestError{0, "", "Falscher Standort, bitte melden"}));
  EXPECT_EQ(rejected.headline, TranslationOf("de", Msg::kRejectedHeadline));
  // The approver's reason is shown as they wrote it.
  EXPECT_THAT(rejected.detail, HasSubstr("Falscher Standort, bitte melden"));
  EXPECT_EQ(FormatElapsed(65), Text(Msg::kElapsedMinutes, {"1", "05"}));
}

TEST(TranslatedMessagesTest, ServerErrorsAreShownByTheirCode) {
  ScopedLanguage japanese("ja");
  const StatusMessage other = DescribeRequest(StatusOf(
      RequestState::kFailed, RequestError{808, "ZtdDeviceAssignedToOtherTenant", "from Graph"}));
  EXPECT_EQ(other.headline, TranslationOf("ja", Msg::kOtherTenantHeadline));
  EXPECT_THAT(other.detail, HasSubstr("808"));
  EXPECT_EQ(other.exit_code, kExitOtherTenant);
}

}  // namespace
}  // namespace apm::client
