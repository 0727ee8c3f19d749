#include "client/catalogue.h"

#include <array>
#include <atomic>
#include <cctype>

#include "client/catalogue_tables.h"

namespace apm::client {
namespace {

// English first: it is the fallback for a missing entry and for an unknown language.
const LanguageTable* const kTables[] = {
    &kEnglishTable,           &kGermanTable,  &kFrenchTable,
    &kSpanishTable,           &kItalianTable, &kDutchTable,
    &kPortugueseBrazilTable,  &kPolishTable,  &kJapaneseTable,
    &kSimplifiedChineseTable, &kKoreanTable,
};
constexpr int kLanguageCount = static_cast<int>(std::size(kTables));

}  // namespace

std::span<const LanguageTable* const> LanguageTables() {
  return kTables;
}

namespace {

using TextsById = std::array<const char*, kMsgCount>;

// Each table indexed by id, built once; a later duplicate of an id is ignored (tests catch it).
const std::array<TextsById, kLanguageCount>& Index() {
  static const std::array<TextsById, kLanguageCount> index = [] {
    std::array<TextsById, kLanguageCount> built{};
    for (int language = 0; language < kLanguageCount; ++language) {
      for (const Translation& entry : kTables[language]->texts) {
        const char*& slot = built[language][static_cast<int>(entry.id)];
        if (!slot && entry.text && *entry.text) slot = entry.text;
      }
    }
    return built;
  }();
  return index;
}

int LanguageIndex(std::string_view tag) {
  for (int i = 0; i < kLanguageCount; ++i) {
    if (tag == kTables[i]->tag) return i;
  }
  return -1;
}

std::atomic<int> current_language{0};

std::string Lower(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower;
}

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

}  // namespace

std::string Text(Msg id) {
  const int at = static_cast<int>(id);
  const char* text = Index()[current_language.load(std::memory_order_relaxed)][at];
  if (!text) text = Index()[0][at];
  return text ? text : std::string(MsgName(id));
}

std::string Text(Msg id, std::initializer_list<std::string_view> args) {
  const std::string pattern = Text(id);
  std::string out;
  out.reserve(pattern.size() + 32);
  for (size_t i = 0; i < pattern.size(); ++i) {
    const bool placeholder = pattern[i] == '{' && i + 2 < pattern.size() && pattern[i + 1] >= '1' &&
                             pattern[i + 1] <= '9' && pattern[i + 2] == '}';
    const size_t n = placeholder ? static_cast<size_t>(pattern[i + 1] - '1') : 0;
    if (placeholder && n < args.size()) {
      out += *(args.begin() + n);
      i += 2;
    } else {
      out += pattern[i];
    }
  }
  return out;
}

std::vector<std::string_view> SupportedLanguages() {
  std::vector<std::string_view> tags;
  for (const LanguageTable* table : kTables) tags.emplace_back(table->tag);
  return tags;
}

std::string MatchLanguage(std::string_view name) {
  // "de_AT.UTF-8@euro" → "de-at": the encoding and modifier say nothing about the language.
  std::string tag = Lower(name.substr(0, name.find_first_of(".@")));
  for (char& c : tag) {
    if (c == '_') c = '-';
  }
  if (tag.empty() || tag == "c" || tag == "posix") return "";
  const std::string primary = tag.substr(0, tag.find('-'));
  if (primary == "pt") return "pt-BR";  // the one Portuguese we have serves Portugal too
  if (primary == "zh") {
    // Traditional Chinese readers are not served by Simplified: the next preference decides.
    const bool traditional = tag.find("hant") != std::string::npos || StartsWith(tag, "zh-tw") ||
                             StartsWith(tag, "zh-hk") || StartsWith(tag, "zh-mo");
    return traditional ? "" : "zh-Hans";
  }
  for (const LanguageTable* table : kTables) {
    if (primary == Lower(table->tag)) return table->tag;
  }
  return "";
}

std::string ChooseLanguage(const std::vector<std::string>& preferred) {
  for (const std::string& name : preferred) {
    std::string tag = MatchLanguage(name);
    if (!tag.empty()) return tag;
  }
  return "en";
}

bool SetLanguage(std::string_view tag) {
  const int at = LanguageIndex(tag);
  if (at < 0) return false;
  current_language.store(at, std::memory_order_relaxed);
  return true;
}

std::string CurrentLanguage() {
  return kTables[current_language.load(std::memory_order_relaxed)]->tag;
}

const char* TranslationOf(std::string_view tag, Msg id) {
  const int at = LanguageIndex(tag);
  if (at < 0) return nullptr;
  for (const Translation& entry : kTables[at]->texts) {
    if (entry.id == id) return entry.text;
  }
  return nullptr;
}

std::string_view MsgName(Msg id) {
  static constexpr std::string_view kNames[] = {
#define APM_TEXT_NAME(name) #name,
      APM_CLIENT_TEXTS(APM_TEXT_NAME)
#undef APM_TEXT_NAME
  };
  const int at = static_cast<int>(id);
  return at >= 0 && at < kMsgCount ? kNames[at] : std::string_view("?");
}

}  // namespace apm::client
