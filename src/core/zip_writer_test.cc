#include "core/zip_writer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/zip_reader.h"

namespace apm {
namespace {

using std::chrono::sys_days;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

// The entries' bytes are views into `zip`: an lvalue only, as ReadStoredZip's own overloads ask.
std::vector<StoredZipEntry> ReadBack(const std::string& zip) {
  Result<std::vector<StoredZipEntry>> entries = ReadStoredZip(zip);
  EXPECT_TRUE(entries.ok()) << entries.status().ToString();
  return entries.ok() ? *entries : std::vector<StoredZipEntry>{};
}
std::vector<StoredZipEntry> ReadBack(std::string&& zip) = delete;

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
  std::vector<StoredZipEntry> entries = ReadBack(*zip);
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

// ReadStoredZip reads what devices upload: anything but the writer's own layout is refused,
// by what is wrong, without reading outside the input.
class HostileZipTest : public ::testing::Test {
 protected:
  static void Put32(std::string* zip, size_t at, uint32_t value) {
    for (int i = 0; i < 4; ++i) (*zip)[at + i] = char(value >> (8 * i) & 0xff);
  }
  static void Put16(std::string* zip, size_t at, uint16_t value) {
    (*zip)[at] = char(value & 0xff);
    (*zip)[at + 1] = char(value >> 8);
  }
  static std::string Refusal(const std::string& zip) {
    Result<std::vector<StoredZipEntry>> read = ReadStoredZip(zip);
    EXPECT_FALSE(read.ok());
    return read.ok() ? "" : read.status().message();
  }
  // The archive of one file "a.txt" holding "hello": local header at 0 (35 bytes of header and
  // name, then 5 bytes), directory record at 40 (46 + 5), end record at 91.
  const std::string one_ = *ZipStored({{"a.txt", "hello"}}, std::chrono::system_clock::now());
  static constexpr size_t kDirectory = 40, kEnd = 91;
};

TEST_F(HostileZipTest, TheLayoutIsAsExpected) {
  ASSERT_EQ(one_.size(), kEnd + 22);
  EXPECT_EQ(ReadBack(one_).at(0).bytes, "hello");
}

TEST_F(HostileZipTest, AnOffsetNearFourGibibytesDoesNotWrap) {
  for (uint32_t offset : {0xffffffffu, 0xffffffe2u, 0xfffffff0u}) {
    std::string zip = one_;
    Put32(&zip, kDirectory + 42, offset);  // the local header's offset
    EXPECT_THAT(Refusal(zip), HasSubstr("local header")) << offset;
  }
  std::string zip = one_;
  Put32(&zip, kEnd + 16, 0xffffffe0u);  // the directory's offset
  EXPECT_THAT(Refusal(zip), HasSubstr("directory"));
  zip = one_;
  Put32(&zip, kDirectory + 20, 0xfffffff0u);  // the file's size
  EXPECT_FALSE(ReadStoredZip(zip).ok());
}

TEST_F(HostileZipTest, TwoRecordsOfOneFileAreRefused) {
  // A second directory record pointing at the same local header (a small archive that would
  // expand to many copies of one large file).
  const std::string record = one_.substr(kDirectory, 51);
  std::string zip = one_.substr(0, kEnd) + record + one_.substr(kEnd);
  Put16(&zip, zip.size() - 22 + 8, 2);
  Put16(&zip, zip.size() - 22 + 10, 2);
  Put32(&zip, zip.size() - 22 + 12, 102);
  EXPECT_THAT(Refusal(zip), HasSubstr("local header"));
}

TEST_F(HostileZipTest, BytesOutsideTheFilesAreRefused) {
  // Between the file and the directory.
  std::string gap = one_.substr(0, kDirectory) + "secret" + one_.substr(kDirectory);
  Put32(&gap, gap.size() - 22 + 16, kDirectory + 6);
  EXPECT_THAT(Refusal(gap), HasSubstr("belong to no file"));
  // Bytes after the end record; a comment announced in it; an extra field.
  EXPECT_THAT(Refusal(one_ + "tail"), HasSubstr("no end record"));
  std::string comment = one_;
  Put16(&comment, kEnd + 20, 4);
  EXPECT_THAT(Refusal(comment), HasSubstr("comment"));
  std::string extra = one_;
  Put16(&extra, kDirectory + 30, 4);
  EXPECT_THAT(Refusal(extra), HasSubstr("extra field"));
  std::string local_extra = one_;
  Put16(&local_extra, 28, 4);
  EXPECT_THAT(Refusal(local_extra), HasSubstr("local header"));
}

TEST_F(HostileZipTest, NamesTheWriterWouldRefuseAreRefused) {
  for (const char* name : {"../aa", "/etc/", "C:\\ab", "a//bb"}) {
    std::string zip = one_;
    const std::string five = std::string(name).substr(0, 5);
    zip.replace(30, 5, five);
    zip.replace(kDirectory + 46, 5, five);
    EXPECT_THAT(Refusal(zip), HasSubstr("file name")) << name;
  }
}

TEST_F(HostileZipTest, CompressedOrOddlyFlaggedFilesAreRefused) {
  std::string compressed = one_;
  Put16(&compressed, kDirectory + 10, 8);  // deflate
  EXPECT_THAT(Refusal(compressed), HasSubstr("not stored"));
  std::string shrunk = one_;
  Put32(&shrunk, kDirectory + 20, 3);  // compressed size differs from the size
  EXPECT_THAT(Refusal(shrunk), HasSubstr("compressed"));
  std::string flags = one_;
  Put16(&flags, kDirectory + 8, 0);
  EXPECT_THAT(Refusal(flags), HasSubstr("UTF-8"));
}

}  // namespace
}  // namespace apm
