// The shape of one language's table (catalogue_*.cc); only catalogue.cc reads them.
#pragma once

#include <span>

#include "client/catalogue.h"

namespace apm::client {

struct Translation {
  Msg id;
  const char* text;  // UTF-8
};

struct LanguageTable {
  const char* tag;  // BCP 47
  std::span<const Translation> texts;
};

extern const LanguageTable kEnglishTable;
extern const LanguageTable kGermanTable;
extern const LanguageTable kFrenchTable;
extern const LanguageTable kSpanishTable;
extern const LanguageTable kItalianTable;
extern const LanguageTable kDutchTable;
extern const LanguageTable kPortugueseBrazilTable;
extern const LanguageTable kPolishTable;
extern const LanguageTable kJapaneseTable;
extern const LanguageTable kSimplifiedChineseTable;
extern const LanguageTable kKoreanTable;

// Every table, English first (the order of SupportedLanguages).
std::span<const LanguageTable* const> LanguageTables();

}  // namespace apm::client
