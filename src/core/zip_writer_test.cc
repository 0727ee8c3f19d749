#include "core/zip_writer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/testing/zip_reader.h"

namespace apm {
namespace {

using std::chrono::sys_days;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

std::vector<testing::StoredZipEntry> ReadBack(const std::string& zip) {
  Result<std::vector<testing::StoredZipEntry>> entries = testing::ReadStoredZip(zip);
  EXPECT_TRUE(entries.ok()) << entries.status().ToString();
  return entries.ok() ? *entries : std::vector<testing::StoredZipEntry>{};
}

TEST(Crc32Test, TheCheckValueOfTheStandard) {
  EXPECT_EQ(Crc32("123456789"), 0xCBF43926u);
  EXPECT_EQ(Crc32(""), 0u);
}

TEST(ZipStoredTest, EveryFileComesBackWithItsNameBytesCrcAndTime) {
  const auto when = sys_days{std::chrono::year(2026) / 11 / 30} + 15h + 4min + 37s;
  Result<std::string> zip = ZipStored({{"ap.log", "line one\nline two\n"},
                                       {"checks/clock.txt", ""},
                                       {"Gerät/Übersicht.txt", "äöü"}},
                                      when);
  ASSERT_TRUE(zip.ok()) << zip.status().ToString();
  std::vector<testing::StoredZipEntry> entries = ReadBack(*zip);
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].name, "ap.log");
  EXPECT_EQ(entries[0].bytes, "line one\nline two\n");
  EXPECT_EQ(entries[0].crc, Crc32("line one\nline two\n"));
  EXPECT_EQ(entries[1].bytes, "");
  EXPECT_EQ(entries[2].name, "Gerät/Übersicht.txt");
  EXPECT_EQ(entries[2].bytes, "äöü");
  // 15:04:36 (two-second steps) on 2026-11-30.
  EXPECT_EQ(entries[0].dos_time, (15u << 11) | (4u << 5) | 18u);
  EXPECT_EQ(entries[0].dos_date, ((2026u - 1980u) << 9) | (11u << 5) | 30u);
}

TEST(ZipStoredTest, AnEmptyArchiveIsJustTheEndRecord) {
  Result<std::string> zip = ZipStored({}, std::chrono::system_clock::now());
  ASSERT_TRUE(zip.ok());
  EXPECT_EQ(zip->size(), 22u);
  EXPECT_TRUE(ReadBack(*zip).empty());
}

TEST(ZipStoredTest, TimesBefore1980AreItsFirstDay) {
  Result<std::string> zip = ZipStored({{"a", "b"}}, std::chrono::system_clock::time_point{});
  ASSERT_TRUE(zip.ok());
  EXPECT_EQ(ReadBack(*zip).at(0).dos_date, (1u << 5) | 1u);
}

TEST(ZipStoredTest, NamesThatCouldEscapeOrCollideAreRefusedByName) {
  const auto now = std::chrono::system_clock::now();
  for (const char* name : {"", "/etc/passwd", "../up", "a/../../b", "C:/x", "a\\b", "a//b", "./x",
                           "dir/", "tab\there"}) {
    Result<std::string> zip = ZipStored({{name, "x"}}, now);
    ASSERT_FALSE(zip.ok()) << name;
    EXPECT_THAT(zip.status().message(), HasSubstr("\"" + std::string(name) + "\"")) << name;
  }
  Result<std::string> twice = ZipStored({{"a.txt", "1"}, {"a.txt", "2"}}, now);
  ASSERT_FALSE(twice.ok());
  EXPECT_THAT(twice.status().message(), HasSubstr("twice"));
  EXPECT_TRUE(ZipStored({{"a..b/c", "fine"}}, now).ok());
}

}  // namespace
}  // namespace apm
