#include "server/http/multipart.h"

#include <gtest/gtest.h>

namespace apm {
namespace {

constexpr std::string_view kType = "multipart/form-data; boundary=----WebKitFormBoundaryx7Yb";

// A body as Chromium sends a form with a hidden field and a file input.
std::string ChromiumBody(std::string_view file) {
  return "------WebKitFormBoundaryx7Yb\r\n"
         "Content-Disposition: form-data; name=\"csrf\"\r\n\r\n"
         "token-1\r\n"
         "------WebKitFormBoundaryx7Yb\r\n"
         "Content-Disposition: form-data; name=\"file\"; filename=\"devices.csv\"\r\n"
         "Content-Type: text/csv\r\n\r\n" +
         std::string(file) + "\r\n------WebKitFormBoundaryx7Yb--\r\n";
}

TEST(Multipart, ReadsFieldsAndFilesAsBrowsersSendThem) {
  // The file's own line breaks and a line that only looks like a boundary stay its content.
  const std::string file = "a,b\r\n1,2\r\n--WebKitFormBoundaryx7Yb\r\n";
  const std::string body = ChromiumBody(file);
  Result<std::vector<FormPart>> parts = ParseMultipartForm(kType, body);
  ASSERT_TRUE(parts.ok()) << parts.status().message();
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].name, "csrf");
  EXPECT_EQ((*parts)[0].content, "token-1");
  EXPECT_FALSE((*parts)[0].filename.has_value());
  EXPECT_EQ((*parts)[1].name, "file");
  EXPECT_EQ((*parts)[1].filename, "devices.csv");
  EXPECT_EQ((*parts)[1].content_type, "text/csv");
  EXPECT_EQ((*parts)[1].content, file);
}

TEST(Multipart, KeepsBinaryContentAndAcceptsQuotedBoundariesPreamblesAndPadding) {
  const std::string file(
      "\xFF\xFE"
      "a\0b\0\r\0\n\0",
      10);  // UTF-16 with a BOM
  const std::string body =
      "preamble\r\n--b 1 \t\r\n"
      "content-disposition: FORM-DATA; filename=\"x.csv\"; name=file\r\n\r\n" +
      file + "\r\n--b 1--";
  Result<std::vector<FormPart>> parts =
      ParseMultipartForm("Multipart/Form-Data; charset=utf-8; boundary=\"b 1\"", body);
  ASSERT_TRUE(parts.ok()) << parts.status().message();
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_EQ((*parts)[0].name, "file");
  EXPECT_EQ((*parts)[0].filename, "x.csv");
  EXPECT_EQ((*parts)[0].content, file);
  EXPECT_TRUE(IsMultipartForm("multipart/form-data; boundary=x"));
  EXPECT_FALSE(IsMultipartForm("application/x-www-form-urlencoded"));
}

// Browsers send a backslash in a file name as it is (WHATWG), not as an escape.
TEST(Multipart, ABackslashInAFileNameIsPartOfIt) {
  const std::string body =
      "--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\\b.csv\\\"\r\n\r\n"
      "1\r\n--x--";
  Result<std::vector<FormPart>> parts = ParseMultipartForm("multipart/form-data; boundary=x", body);
  ASSERT_TRUE(parts.ok()) << parts.status().message();
  EXPECT_EQ((*parts)[0].filename, "a\\b.csv\\");
}

TEST(Multipart, AnEmptyFileIsAPartWithNoContent) {
  Result<std::vector<FormPart>> parts = ParseMultipartForm(kType, ChromiumBody(""));
  ASSERT_TRUE(parts.ok()) << parts.status().message();
  EXPECT_EQ((*parts)[1].content, "");
}

TEST(Multipart, EachMalformedBodyIsRefusedWithWhatIsWrong) {
  auto error = [](std::string_view type, std::string_view body) {
    Result<std::vector<FormPart>> r = ParseMultipartForm(type, body, 2);
    return r.ok() ? std::string("accepted") : r.status().message();
  };
  const std::string good = ChromiumBody("x");
  EXPECT_EQ(error("text/plain", good), "the body is not multipart/form-data");
  EXPECT_EQ(error("multipart/form-data", good), "the Content-Type has no valid boundary");
  EXPECT_EQ(error("multipart/form-data; boundary=\"open", good),
            "the Content-Type has an unterminated quote");
  EXPECT_EQ(error("multipart/form-data; boundary=" + std::string(71, 'a'), good),
            "the Content-Type has no valid boundary");
  EXPECT_EQ(error("multipart/form-data; boundary=other", good), "the body has no part boundary");
  // Cut off anywhere inside the last part: never half a file.
  EXPECT_EQ(error(kType, good.substr(0, good.size() - 8)),
            "the body ends inside a part (no closing boundary)");
  EXPECT_EQ(error(kType, "------WebKitFormBoundaryx7Yb\r\nContent-Disposition: form-data"),
            "the body ends inside a part's headers");
  EXPECT_EQ(error(kType, "------WebKitFormBoundaryx7Yb\r\n\r\nx\r\n------WebKitFormBoundaryx7Yb--"),
            "a part has no Content-Disposition");
  EXPECT_EQ(error(kType,
                  "------WebKitFormBoundaryx7Yb\r\nContent-Disposition: form-data\r\n\r\nx\r\n"
                  "------WebKitFormBoundaryx7Yb--"),
            "a part has no field name");
  EXPECT_EQ(error(kType,
                  "------WebKitFormBoundaryx7Yb\r\nContent-Disposition: attachment; name=a\r\n\r\n"
                  "x\r\n------WebKitFormBoundaryx7Yb--"),
            "a part's Content-Disposition is not form-data");
  EXPECT_EQ(error(kType, "------WebKitFormBoundaryx7Ybjunk\r\n"),
            "a boundary line is not followed by a line break");
  std::string three;
  for (int i = 0; i < 3; ++i) {
    three += "------WebKitFormBoundaryx7Yb\r\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n";
  }
  EXPECT_EQ(error(kType, three + "------WebKitFormBoundaryx7Yb--"),
            "the form has more than 2 parts");
}

}  // namespace
}  // namespace apm
