// Every word ap shows, by id, in each language of catalogue_*.cc (docs/client.md#languages).
// Texts are UTF-8 with numbered placeholders {1}..{9}; a translation may reorder them.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace apm::client {

// X(id): one entry per text. English (catalogue_en.cc) is the reference for every language.
#define APM_CLIENT_TEXTS(X)       \
  X(kWindowTitle)                 \
  X(kScreenTitle)                 \
  X(kLabelManufacturer)           \
  X(kLabelModel)                  \
  X(kLabelSerialNumber)           \
  X(kLabelRequestId)              \
  X(kStarting)                    \
  X(kButtonRestart)               \
  X(kButtonRetry)                 \
  X(kButtonClose)                 \
  X(kButtonCollectDiagnostics)    \
  X(kRestartingIn)                \
  X(kOutcomeOk)                   \
  X(kOutcomeWarning)              \
  X(kOutcomeFailed)               \
  X(kChecksSummary)               \
  X(kChecksMore)                  \
  X(kChecksMoreAllOk)             \
  X(kQrDescription)               \
  X(kConsoleChecks)               \
  X(kConsoleRestartingIn)         \
  X(kAskRestart)                  \
  X(kAskRetry)                    \
  X(kAskCollectDiagnostics)       \
  X(kYesLetters)                  \
  X(kElapsedSeconds)              \
  X(kElapsedMinutes)              \
  X(kElapsedHours)                \
  X(kPendingHeadline)             \
  X(kPendingSelfService)          \
  X(kPendingHelpdesk)             \
  X(kApprovedHeadline)            \
  X(kApprovedDetail)              \
  X(kRemovingHeadline)            \
  X(kRemovingDetail)              \
  X(kImportingHeadline)           \
  X(kImportingDetail)             \
  X(kWaitingForSyncHeadline)      \
  X(kWaitingForSyncDetail)        \
  X(kAddingToGroupHeadline)       \
  X(kAddingToGroupDetail)         \
  X(kWaitingForProfileHeadline)   \
  X(kWaitingForProfileDetail)     \
  X(kCompletedHeadline)           \
  X(kCompletedDetail)             \
  X(kAlreadyRegisteredHeadline)   \
  X(kAlreadyRegisteredDetail)     \
  X(kOtherTenantHeadline)         \
  X(kOtherTenantDetail)           \
  X(kHashRefusedHeadline)         \
  X(kHashRefusedDetail)           \
  X(kTimedOutHeadline)            \
  X(kTimedOutDetail)              \
  X(kImportFailedHeadline)        \
  X(kImportFailedDetail)          \
  X(kRejectedHeadline)            \
  X(kRejectedDetail)              \
  X(kRejectedReason)              \
  X(kExpiredHeadline)             \
  X(kExpiredDetail)               \
  X(kNotAllowedHeadline)          \
  X(kNotAllowedDetail)            \
  X(kManufacturerNotAllowed)      \
  X(kModelNotAllowed)             \
  X(kHashMismatchRefused)         \
  X(kUnknownState)                \
  X(kInvalidServerAddress)        \
  X(kCannotReachServer)           \
  X(kCheckNetworkAndAddress)      \
  X(kCheckNetworkAndRetry)        \
  X(kServerRefused)               \
  X(kRequestGoneHeadline)         \
  X(kRequestGoneDetail)           \
  X(kHasProfileHeadline)          \
  X(kHasProfileDetail)            \
  X(kCannotReadDevice)            \
  X(kNoSerialHeadline)            \
  X(kNoSerialDetail)              \
  X(kNoHashHeadline)              \
  X(kNoHashFromSource)            \
  X(kNoHashAlternatives)          \
  X(kHashNoMdmBridge)             \
  X(kHashNeedsAdministrator)      \
  X(kHashQueryFailed)             \
  X(kHashEmpty)                   \
  X(kHashMismatchHeadline)        \
  X(kHashMismatchDetail)          \
  X(kHashMismatchLine)            \
  X(kReconnecting)                \
  X(kSending)                     \
  X(kCouldNotRestart)             \
  X(kCheckClockName)              \
  X(kCheckServerClockName)        \
  X(kClockOnTime)                 \
  X(kClockBehind)                 \
  X(kClockAhead)                  \
  X(kClockFix)                    \
  X(kClockMayFailSignIn)          \
  X(kTimeServerNoAnswer)          \
  X(kServerNoAnswer)              \
  X(kServerNoDate)                \
  X(kReachable)                   \
  X(kNotReachable)                \
  X(kHelpPurpose)                 \
  X(kHelpUsage)                   \
  X(kHelpServerArgument)          \
  X(kHelpOptions)                 \
  X(kHelpFlagHelp)                \
  X(kHelpFlagVersion)             \
  X(kHelpFlagVerbose)             \
  X(kHelpFlagQuiet)               \
  X(kHelpFlagSkipChecks)          \
  X(kHelpFlagCheckOnly)           \
  X(kHelpFlagIgnoreProfile)       \
  X(kHelpFlagNoWait)              \
  X(kHelpFlagCorporateIdentifier) \
  X(kHelpFlagRemoveIntuneRecord)  \
  X(kHelpFlagReboot)              \
  X(kHelpFlagAllowHttp)           \
  X(kHelpFlagConsole)             \
  X(kHelpValueDeviceFile)         \
  X(kHelpValueOa3Report)          \
  X(kHelpValueStateDir)           \
  X(kHelpValueLanguage)           \
  X(kHelpFlagCollectDiagnostics)  \
  X(kHelpValueDiagnosticsFolder)  \
  X(kHelpExitCodes)               \
  X(kHelpExit0)                   \
  X(kHelpExit2)                   \
  X(kHelpExit3)                   \
  X(kHelpExit4)                   \
  X(kHelpExit5)                   \
  X(kHelpExit6)                   \
  X(kHelpExit7)                   \
  X(kHelpExit8)                   \
  X(kHelpExit9)                   \
  X(kHelpExit10)                  \
  X(kHelpExit11)                  \
  X(kHelpExit12)                  \
  X(kHelpExit13)                  \
  X(kHelpExit14)                  \
  X(kHelpExamples)                \
  X(kHelpExampleRegister)         \
  X(kHelpExampleCheckOnly)        \
  X(kHelpExampleWinPe)            \
  X(kErrorOneServerOnly)          \
  X(kErrorNeedsValue)             \
  X(kErrorUnknownOption)          \
  X(kErrorServerMissing)          \
  X(kErrorCannotCombine)          \
  X(kErrorOnlyWith)               \
  X(kErrorUnknownLanguage)        \
  X(kSeeHelp)                     \
  X(kContinuingInConsole)         \
  X(kDiagnosticsCollecting)       \
  X(kDiagnosticsWritten)          \
  X(kDiagnosticsNotWritten)       \
  X(kDiagnosticsSent)             \
  X(kDiagnosticsNotSent)

enum class Msg : int {
#define APM_TEXT_ENUM(id) id,
  APM_CLIENT_TEXTS(APM_TEXT_ENUM)
#undef APM_TEXT_ENUM
};

inline constexpr int kMsgCount = 0
#define APM_TEXT_COUNT(id) +1
    APM_CLIENT_TEXTS(APM_TEXT_COUNT)
#undef APM_TEXT_COUNT
    ;

// The text of `id` in the current language (English where a translation lacks it).
std::string Text(Msg id);
// The same with {1}, {2}, … replaced by `args` in order.
std::string Text(Msg id, std::initializer_list<std::string_view> args);

// Supported BCP 47 tags, English first: "en", "de", …, "pt-BR", …, "zh-Hans", "ko".
std::vector<std::string_view> SupportedLanguages();
// The supported tag a language name stands for ("de-AT" → "de", "pt" → "pt-BR", "zh_CN.UTF-8"
// → "zh-Hans"; case and '_' do not matter), or "" when none does.
std::string MatchLanguage(std::string_view name);
// The first of `preferred` (BCP 47 tags or POSIX locale names, best first) that matches, else
// "en".
std::string ChooseLanguage(const std::vector<std::string>& preferred);

// The language Text() uses. Set once at start-up, before any thread reads a text; false (and
// no change) when `tag` is not a supported tag.
bool SetLanguage(std::string_view tag);
std::string CurrentLanguage();

// For the catalogue's tests: `id`'s text in `tag` exactly as written there (nullptr when the
// language lacks it), and the id's name ("kWindowTitle").
const char* TranslationOf(std::string_view tag, Msg id);
std::string_view MsgName(Msg id);

}  // namespace apm::client
