#include "core/autopilot_csv.h"

#include <gtest/gtest.h>

namespace apm {
namespace {

std::string Utf16Le(std::string_view ascii, bool bom) {
  std::string out = bom ? "\xFF\xFE" : "";
  for (char c : ascii) {
    out += c;
    out += '\0';
  }
  return out;
}

TEST(AutopilotCsv, ReadsWhatGetWindowsAutopilotInfoWritesInUtf16WithABom) {
  std::string file = Utf16Le(
      "Device Serial Number,Windows Product ID,Hardware Hash\r\n"
      "PF5CSV01,,T0FN\r\n"
      "PF5CSV02,00330-80000-00000-AA123,T0FO\r\n",
      true);
  Result<std::vector<AutopilotCsvRow>> rows = ParseAutopilotCsv(file);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].line, 2);
  EXPECT_EQ((*rows)[0].serial_number, "PF5CSV01");
  EXPECT_EQ((*rows)[0].hardware_hash, "T0FN");
  EXPECT_EQ((*rows)[1].product_id, "00330-80000-00000-AA123");
  EXPECT_TRUE((*rows)[1].error.empty());
  // Without the BOM, and big-endian with one.
  EXPECT_EQ(
      ParseAutopilotCsv(Utf16Le("Device Serial Number,Hardware Hash\nA,T0FN\n", false))->size(),
      1u);
  std::string be = "\xFE\xFF";
  for (char c : std::string_view("Device Serial Number,Hardware Hash\nA,T0FN\n")) {
    be += '\0';
    be += c;
  }
  EXPECT_EQ(ParseAutopilotCsv(be)->front().serial_number, "A");
}

TEST(AutopilotCsv, QuotedUtf8WithTheOptionalColumnsAndAnyColumnOrder) {
  Result<std::vector<AutopilotCsvRow>> rows = ParseAutopilotCsv(
      "\xEF\xBB\xBF\"Hardware Hash\",\"Group Tag\",\"Device Serial Number\",\"Assigned User\"\n"
      "\"T0FN\",\"Kiosk, floor 2\",\"PF5CSV03\",\"anna@contoso.com\"\n\n");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].group_tag, "Kiosk, floor 2");
  EXPECT_EQ((*rows)[0].assigned_user, "anna@contoso.com");
  EXPECT_EQ((*rows)[0].serial_number, "PF5CSV03");
}

TEST(AutopilotCsv, ABadRowIsReportedWithItsLineAndTheOthersStand) {
  Result<std::vector<AutopilotCsvRow>> rows = ParseAutopilotCsv(
      "Device Serial Number,Windows Product ID,Hardware Hash\n"
      "PF5CSV04,,T0FN\n"
      "PF5CSV05,T0FN\n"
      ",,T0FN\n"
      "PF5CSV06,,\n"
      "PF5CSV08,,T0FO\n"
      "\"PF5CSV07,,T0FN\n"
      "PF5CSV09,,T0FO\n");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 6u);  // an unterminated quote runs to the end of the file
  EXPECT_EQ((*rows)[1].error, "2 columns where the header has 3");
  EXPECT_EQ((*rows)[1].line, 3);
  EXPECT_EQ((*rows)[2].error, "no Device Serial Number");
  EXPECT_EQ((*rows)[3].error, "no Hardware Hash");
  EXPECT_TRUE((*rows)[4].error.empty());
  EXPECT_EQ((*rows)[5].error, "unterminated quote");
  EXPECT_EQ((*rows)[5].line, 7);
  EXPECT_TRUE((*rows)[0].error.empty());
}

TEST(AutopilotCsv, QuotedLineBreaksTypeLinesAndNulCharacters) {
  Result<std::vector<AutopilotCsvRow>> rows = ParseAutopilotCsv(
      "#TYPE System.Management.Automation.PSCustomObject\r\n"
      "\"Device Serial Number\",\"Hardware Hash\",\"Group Tag\"\r\n"
      "\"PF5CSV10\",\"T0FN\",\"two\r\nlines\"\r\n"
      "PF5CSV11,T0FO,\r\n");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].group_tag, "two\r\nlines");  // the intake refuses it, by name
  EXPECT_EQ((*rows)[0].line, 3);
  EXPECT_EQ((*rows)[1].line, 5);
  using namespace std::string_literals;
  Result<std::vector<AutopilotCsvRow>> nul =
      ParseAutopilotCsv(Utf16Le("Device Serial Number,Hardware Hash\nA\0B,T0FN\n"s, true));
  ASSERT_TRUE(nul.ok());
  EXPECT_EQ(nul->front().error, "contains a NUL character");
}

TEST(AutopilotCsv, AFileThatIsNotOneSaysWhy) {
  EXPECT_EQ(ParseAutopilotCsv("").status().message(), "the file is empty");
  EXPECT_NE(ParseAutopilotCsv("Serial,Hash\nA,B\n").status().message().find("Hardware Hash"),
            std::string::npos);
  using namespace std::string_literals;
  EXPECT_EQ(ParseAutopilotCsv("\x89PNG\r\n\x1a\n\0\0\0"s).status().message(),
            "the file is neither UTF-8 nor UTF-16 text");
  EXPECT_EQ(ParseAutopilotCsv("Device Serial Number,Hardware Hash\nA\0,B\n"s).status().message(),
            "the file is neither UTF-8 nor UTF-16 text");  // a NUL in what is not UTF-16
  EXPECT_FALSE(ParseAutopilotCsv("\xFF\xFE"
                                 "A")
                   .ok());  // odd UTF-16
}

}  // namespace
}  // namespace apm
