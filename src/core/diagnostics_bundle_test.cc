#include "core/diagnostics_bundle.h"

#include <gtest/gtest.h>

#include "core/base64.h"
#include "core/sha256.h"

namespace apm {
namespace {

TEST(DiagnosticsFileNameTest, TakesTheClientsNamesAndRefusesPathsAndOddCharacters) {
  EXPECT_TRUE(ValidDiagnosticsFileName("ap-diagnostics-PF3ABCDE-20261130-153012.zip"));
  EXPECT_TRUE(ValidDiagnosticsFileName("ap-diagnostics-unknown_x.y-20261130-153012.zip"));
  for (const char* bad : {"", ".zip", ".hidden.zip", "a.txt", "../a.zip", "a/b.zip", "a\\b.zip",
                          "a b.zip", "a\".zip", "a;.zip", "a\r\n.zip", "\xc3\xa4.zip"}) {
    EXPECT_FALSE(ValidDiagnosticsFileName(bad)) << bad;
  }
  EXPECT_TRUE(ValidDiagnosticsFileName(std::string(96, 'a') + ".zip"));
  EXPECT_FALSE(ValidDiagnosticsFileName(std::string(97, 'a') + ".zip"));
}

TEST(HashSpotterTest, FindsSixteenCharactersOfTheHashInEachForm) {
  std::string raw;
  for (int i = 0; i < 64; ++i) raw.push_back(char(i * 7 + 3));
  const std::string hash = Base64Encode(raw);
  const HashSpotter spotter(hash);
  EXPECT_TRUE(spotter.Holds("before " + hash.substr(20, 16) + " after"));
  EXPECT_TRUE(spotter.Holds("x" + raw.substr(30, 16)));
  const std::string hex = ToHex(reinterpret_cast<const uint8_t*>(raw.data()), raw.size());
  EXPECT_TRUE(spotter.Holds("value=" + hex.substr(10, 16)));
  // Fifteen characters are not a run; nor is text that never held it.
  EXPECT_FALSE(spotter.Holds(hash.substr(20, 15)));
  EXPECT_FALSE(spotter.Holds("serial PF3ABCDE, model ThinkPad"));
}

// Windows' own tools write UTF-16 text and .reg files ("hex:01,a2,…"): the hash is found there.
TEST(HashSpotterTest, FindsTheHashInTheFormsWindowsToolsWrite) {
  std::string raw;
  for (int i = 0; i < 64; ++i) raw.push_back(char(i * 7 + 3));
  const std::string hash = Base64Encode(raw);
  const HashSpotter spotter(hash);
  auto utf16 = [](std::string_view ascii) {
    std::string out;
    for (char c : ascii) out += std::string{c, '\0'};
    return out;
  };
  const std::string hex = ToHex(reinterpret_cast<const uint8_t*>(raw.data()), raw.size());
  std::string reg;
  for (size_t at = 20; at < 60; at += 2) reg += hex.substr(at, 2) + ",";
  EXPECT_TRUE(spotter.Holds("\"Blob\"=hex:" + reg + "\\\r\n"));
  EXPECT_TRUE(spotter.Holds(utf16("\"Blob\"=hex:" + reg)));
  EXPECT_TRUE(spotter.Holds(utf16("hash " + hash.substr(30, 20))));
  EXPECT_TRUE(spotter.Holds(utf16(hex.substr(30, 20))));
  // Shorter than the run, or other hex, is not the hash.
  EXPECT_FALSE(spotter.Holds(utf16(hash.substr(30, 12))));
  EXPECT_FALSE(spotter.Holds(utf16("\"Other\"=hex:00,11,22,33,44,55,66,77,88,99,aa,bb,cc")));
}

// A hash's padding is in every zip and many registry values: not a sign of the hash.
TEST(HashSpotterTest, PaddingIsNotTheHash) {
  std::string raw(64, '\0');
  for (int i = 0; i < 32; ++i) raw[32 + i] = char(i * 11 + 5);
  const HashSpotter spotter(Base64Encode(raw));
  EXPECT_FALSE(spotter.Holds(std::string(40, '\0')));
  EXPECT_FALSE(spotter.Holds(std::string(40, '0')));
  EXPECT_FALSE(spotter.Holds(std::string(40, 'A')));
  EXPECT_FALSE(spotter.Holds(std::string(20, '\0') + "\x01" + std::string(20, '\0')));
  EXPECT_TRUE(spotter.Holds(raw.substr(40, 16)));
}

// The SMBIOS strings in the hash are the device's names, shown on purpose; its binary is not.
TEST(HashSpotterTest, TheDevicesNamesInTheHashAreNotTheHash) {
  const std::string sku = "LENOVO_MT_21R3_BU_Think_FM_ThinkPad";
  std::string raw = "\x01\x02" + sku + '\0';
  for (int i = 0; i < 32; ++i) raw.push_back(char(i * 13 + 7));
  const HashSpotter spotter(Base64Encode(raw));
  EXPECT_FALSE(spotter.Holds("hash sku: " + sku));
  EXPECT_TRUE(spotter.Holds(raw.substr(raw.size() - 20, 16)));
  EXPECT_TRUE(spotter.Holds(raw.substr(sku.size() - 4, 16))) << "text and binary together";
}

TEST(HashSpotterTest, AnEmptyOrShortHashFindsNothing) {
  EXPECT_FALSE(HashSpotter("").Holds(std::string(64, 'A')));
  EXPECT_FALSE(HashSpotter("QUJD").Holds("QUJDQUJDQUJDQUJDQUJD"));
}

}  // namespace
}  // namespace apm
