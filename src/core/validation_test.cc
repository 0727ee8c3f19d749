#include "core/validation.h"

#include <gtest/gtest.h>

#include "core/testing/hash_builder.h"

namespace apm {
namespace {

using testing::HashBuilder;
using testing::HashText;
using Verdict = VerificationOutcome::Verdict;

DeviceSubmission Laptop() {
  DeviceSubmission s;
  s.serial_number = "PF3ABCDE";
  s.manufacturer = "LENOVO";
  s.model = "21R3001BUK";
  s.hardware_hash = HashText(HashBuilder::Laptop().Build());
  return s;
}

Result<HardwareHashInfo> Decode(const DeviceSubmission& s);

Result<HardwareHashInfo> Decode(const DeviceSubmission& s);

TEST(Validation, AcceptsAndTrims) {
  DeviceSubmission s = Laptop();
  s.serial_number = "  PF3ABCDE \t";
  std::string blob;
  EXPECT_FALSE(ValidateSubmission(s, &blob).has_value());
  EXPECT_EQ(s.serial_number, "PF3ABCDE");
  EXPECT_EQ(blob.size(), 3000u);
}

TEST(Validation, NamesTheField) {
  struct Case {
    void (*mutate)(DeviceSubmission&);
    const char* field;
  } cases[] = {
      {[](DeviceSubmission& s) { s.serial_number = ""; }, "serialNumber"},
      {[](DeviceSubmission& s) { s.serial_number = std::string(129, 'A'); }, "serialNumber"},
      {[](DeviceSubmission& s) {
         s.serial_number =
             "AB\x01"
             "CD";
       },
       "serialNumber"},
      {[](DeviceSubmission& s) { s.manufacturer = std::string(257, 'm'); }, "manufacturer"},
      {[](DeviceSubmission& s) { s.model = "bad\nmodel"; }, "model"},
      {[](DeviceSubmission& s) { s.model = "bad\xff"; }, "model"},
      {[](DeviceSubmission& s) { s.model = "next\xc2\x85line"; }, "model"},  // C1 control
      {[](DeviceSubmission& s) { s.hardware_hash = std::string(10924, 'A'); }, "hardwareHash"},
      {[](DeviceSubmission& s) { s.hardware_hash = ""; }, "hardwareHash"},
      {[](DeviceSubmission& s) { s.hardware_hash = "not base64!"; }, "hardwareHash"},
      {[](DeviceSubmission& s) { s.hardware_hash = std::string(12000, 'A'); }, "hardwareHash"},
      {[](DeviceSubmission& s) { s.product_key = "ABCDE"; }, "productKey"},
      {[](DeviceSubmission& s) { s.client_version = std::string(65, '1'); }, "clientVersion"},
  };
  for (const Case& c : cases) {
    DeviceSubmission s = Laptop();
    c.mutate(s);
    std::optional<FieldError> e = ValidateSubmission(s, nullptr);
    ASSERT_TRUE(e.has_value()) << c.field;
    EXPECT_EQ(e->field, c.field);
    EXPECT_FALSE(e->message.empty());
  }
}

// Security issue 10, finding 7: invisible and direction characters could make one serial
// render as another on an approver's page.
TEST(Validation, RefusesInvisibleAndDirectionCharacters) {
  for (const char* serial : {"PF3\u202eEDCBA", "PF3\u200bABC", "PF3\u2066ABC\u2069", "\ufeffPF3",
                             "PF3\u061cA", "PF3\u200fA", "PF3\u2060A"}) {
    DeviceSubmission s = Laptop();
    s.serial_number = serial;
    std::optional<FieldError> e = ValidateSubmission(s, nullptr);
    ASSERT_TRUE(e.has_value()) << serial;
    EXPECT_EQ(e->field, "serialNumber");
    EXPECT_NE(e->message.find("U+"), std::string::npos) << e->message;
  }
  DeviceSubmission s = Laptop();
  s.model = "ThinkPad \u202eX1";
  EXPECT_EQ(ValidateSubmission(s, nullptr)->message,
            "must not contain invisible or text-direction characters (U+202E)");
  // Other non-ASCII text is fine.
  std::string comment = "  Caf\u00e9 \u2014 \u65e5\u672c \U0001F600 ";
  EXPECT_FALSE(CheckText("comment", comment, 0, 500));
  EXPECT_EQ(comment, "Caf\u00e9 \u2014 \u65e5\u672c \U0001F600");
  std::string escape = "ok\x1b[31m";
  EXPECT_EQ(CheckText("comment", escape, 0, 500)->message, "must not contain control characters");
}

TEST(Validation, Utf8) {
  EXPECT_TRUE(IsValidUtf8("plain"));
  EXPECT_TRUE(IsValidUtf8("Gr\xc3\xbc\xc3\x9f \xe2\x82\xac \xf0\x9f\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xff"));
  EXPECT_FALSE(IsValidUtf8("\xc3"));              // truncated
  EXPECT_FALSE(IsValidUtf8("\xe2\x82"));          // truncated
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(IsValidUtf8("a\x80"));             // stray continuation
}

TEST(Validation, LengthsCountCharactersNotBytes) {
  DeviceSubmission s = Laptop();
  s.manufacturer = "";
  for (int i = 0; i < 256; ++i) s.manufacturer += "\xc3\xa9";  // 256 characters, 512 bytes
  EXPECT_FALSE(ValidateSubmission(s, nullptr).has_value());
  s.manufacturer += "\xc3\xa9";
  ASSERT_TRUE(ValidateSubmission(s, nullptr).has_value());
}

TEST(Verification, OmittedClaimsAreNotMismatches) {
  DeviceSubmission s = Laptop();
  Result<HardwareHashInfo> decoded = Decode(s);
  s.manufacturer.clear();
  s.model.clear();
  VerificationOutcome v = VerifyDevice(s, decoded, HashVerificationMode::kEnforce, {});
  EXPECT_EQ(v.verdict, Verdict::kVerified);
  EXPECT_EQ(v.effective_manufacturer, "LENOVO");
}

TEST(Validation, ProductKeyFormat) {
  DeviceSubmission s = Laptop();
  s.product_key = "ABCDE-12345-FGHIJ-67890-KLMNO";
  EXPECT_FALSE(ValidateSubmission(s, nullptr).has_value());
}

AllowList ModelsOnly(std::vector<std::string> models) {
  AllowList a;
  a.use_models = true;
  a.models = std::move(models);
  return a;
}

Result<HardwareHashInfo> Decode(const DeviceSubmission& s) {
  std::string blob;
  DeviceSubmission copy = s;
  EXPECT_FALSE(ValidateSubmission(copy, &blob).has_value());
  return DecodeHardwareHash(blob);
}

TEST(Verification, MatchingDeviceIsVerified) {
  DeviceSubmission s = Laptop();
  s.manufacturer = "lenovo";  // case-insensitive
  VerificationOutcome v = VerifyDevice(s, Decode(s), HashVerificationMode::kEnforce, {});
  EXPECT_EQ(v.verdict, Verdict::kVerified);
  EXPECT_FALSE(v.refused);
}

TEST(Verification, LenovoFriendlyModelMatchesFamily) {
  DeviceSubmission s = Laptop();
  s.model = "ThinkPad T14s 2-in-1 Gen 1";
  VerificationOutcome v = VerifyDevice(s, Decode(s), HashVerificationMode::kEnforce, {});
  EXPECT_EQ(v.verdict, Verdict::kVerified);
}

TEST(Verification, MismatchRefusedOnlyWhenEnforced) {
  DeviceSubmission s = Laptop();
  Result<HardwareHashInfo> decoded = Decode(s);
  s.serial_number = "OTHER123";
  VerificationOutcome enforce = VerifyDevice(s, decoded, HashVerificationMode::kEnforce, {});
  EXPECT_EQ(enforce.verdict, Verdict::kMismatch);
  EXPECT_TRUE(enforce.refused);
  EXPECT_EQ(enforce.refusal_code, "hash_mismatch");
  EXPECT_NE(enforce.refusal_message.find("serial number"), std::string::npos);

  VerificationOutcome warn = VerifyDevice(s, decoded, HashVerificationMode::kWarn, {});
  EXPECT_EQ(warn.verdict, Verdict::kMismatch);
  EXPECT_FALSE(warn.refused);

  VerificationOutcome off = VerifyDevice(s, decoded, HashVerificationMode::kOff, {});
  EXPECT_EQ(off.verdict, Verdict::kSkipped);
  EXPECT_FALSE(off.refused);
}

TEST(Verification, UnverifiableHashIsAcceptedAndFlagged) {
  DeviceSubmission s = Laptop();
  Result<HardwareHashInfo> bad = DecodeHardwareHash("garbage");
  VerificationOutcome v = VerifyDevice(s, bad, HashVerificationMode::kEnforce, {});
  EXPECT_EQ(v.verdict, Verdict::kUnverifiable);
  EXPECT_FALSE(v.refused);
  EXPECT_FALSE(v.unverifiable_reason.empty());
}

TEST(AllowList, AppliesToHashValuesNotClaims) {
  DeviceSubmission s = Laptop();
  Result<HardwareHashInfo> decoded = Decode(s);
  s.manufacturer = "Microsoft Corporation";  // a lie the hash contradicts
  AllowList allow;
  allow.use_manufacturers = true;
  allow.manufacturers = {"Microsoft Corporation"};
  VerificationOutcome v = VerifyDevice(s, decoded, HashVerificationMode::kOff, allow);
  EXPECT_TRUE(v.refused);
  EXPECT_EQ(v.refusal_code, "manufacturer_not_allowed");
  EXPECT_EQ(v.effective_manufacturer, "LENOVO");
}

TEST(AllowList, ModelMatchesRecord17OrFamily) {
  DeviceSubmission s = Laptop();
  Result<HardwareHashInfo> decoded = Decode(s);
  AllowList by_family = ModelsOnly({"thinkpad t14s 2-in-1 gen 1"});
  EXPECT_FALSE(VerifyDevice(s, decoded, HashVerificationMode::kEnforce, by_family).refused);
  AllowList by_type = ModelsOnly({"21R3001BUK"});
  EXPECT_FALSE(VerifyDevice(s, decoded, HashVerificationMode::kEnforce, by_type).refused);
  AllowList other = ModelsOnly({"Virtual Machine"});
  VerificationOutcome v = VerifyDevice(s, decoded, HashVerificationMode::kEnforce, other);
  EXPECT_TRUE(v.refused);
  EXPECT_EQ(v.refusal_code, "model_not_allowed");
}

TEST(AllowList, FallsBackToClientValuesWhenUnverifiable) {
  DeviceSubmission s = Laptop();
  s.manufacturer = "Microsoft Corporation";
  AllowList allow;
  allow.use_manufacturers = true;
  allow.manufacturers = {"microsoft corporation"};
  VerificationOutcome v =
      VerifyDevice(s, DecodeHardwareHash("x"), HashVerificationMode::kEnforce, allow);
  EXPECT_FALSE(v.refused);
  EXPECT_EQ(v.effective_manufacturer, "Microsoft Corporation");
}

TEST(ValidUpn, IsAUserPrincipalName) {
  EXPECT_TRUE(ValidUpn("user@contoso.com"));
  for (const char* bad : {"user", "@contoso.com", "user@", "us er@contoso.com", "<a>@b.c"}) {
    EXPECT_FALSE(ValidUpn(bad)) << bad;
  }
}

}  // namespace
}  // namespace apm
