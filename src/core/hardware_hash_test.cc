#include "core/hardware_hash.h"

#include <gtest/gtest.h>

#include "core/testing/hash_builder.h"

namespace apm {
namespace {

using testing::HashBuilder;

TEST(HardwareHash, DecodesTypicalLaptop) {
  std::string blob = HashBuilder::Laptop().Build();
  ASSERT_EQ(blob.size(), 3000u);
  Result<HardwareHashInfo> r = DecodeHardwareHash(blob);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->serial, "PF3ABCDE");
  EXPECT_EQ(r->manufacturer, "LENOVO");
  EXPECT_EQ(r->model, "21R3001BUK");
  EXPECT_EQ(r->family, "ThinkPad T14s 2-in-1 Gen 1");
  EXPECT_EQ(r->sku, "LENOVO_MT_21R3_BU_Think_FM_ThinkPad");
  EXPECT_EQ(r->architecture, "x64");
  EXPECT_TRUE(r->tpm_present);
  EXPECT_EQ(r->tpm_version, "2.0");
  ASSERT_EQ(r->macs.size(), 2u);
  EXPECT_EQ(r->macs[0], "00:1a:2b:3c:4d:5e");
  EXPECT_EQ(r->macs[1], "a0:b1:c2:d3:e4:f5");
  ASSERT_EQ(r->disk_serials.size(), 1u);
  EXPECT_EQ(r->disk_serials[0], "ACE4_2E00_1234_5678.");  // NVMe serials keep their dot
  EXPECT_EQ(r->smbios_uuid, "00112233-4455-6677-8899-AABBCCDDEEFF");
  EXPECT_GT(r->used_length, 400u);
  EXPECT_LT(r->used_length, 3000u);
}

TEST(HardwareHash, VirtualMachineWithoutTpmAndPlaceholders) {
  HashBuilder b;
  b.Arch(12)
      .Str(kRecSerial, std::string(kSmbiosMissing))
      .Str(kRecManufacturer, "QEMU")
      .Str(kRecProductName, "Standard PC (Q35 + ICH9, 2009)")
      .Str(kRecSku, std::string(kSmbiosMissing))
      .Str(kRecFamily, std::string(kSmbiosMissing));
  Result<HardwareHashInfo> r = DecodeHardwareHash(b.Build());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->serial, "");  // the placeholder means "no value"
  EXPECT_EQ(r->sku, "");
  EXPECT_EQ(r->family, "");
  EXPECT_EQ(r->manufacturer, "QEMU");
  EXPECT_EQ(r->architecture, "arm64");
  EXPECT_FALSE(r->tpm_present);
  EXPECT_TRUE(r->macs.empty());
  EXPECT_TRUE(r->disk_serials.empty());
}

TEST(HardwareHash, RepeatedRecordsAndUnknownTypes) {
  static const uint8_t kMac[6] = {1, 2, 3, 4, 5, 6};
  HashBuilder b;
  b.Raw(200, "future record type")
      .Str(kRecSerial, "FIRST")
      .Str(kRecSerial, "SECOND")
      .Disk("D1", "disk one")
      .Disk("D2", "disk two")
      .Mac(kMac)
      .Mac(kMac)
      .Mac(kMac)
      .Str(kRecManufacturer, "  HP  ", 12);  // padding NULs and spaces
  Result<HardwareHashInfo> r = DecodeHardwareHash(b.Build());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->serial, "FIRST");
  EXPECT_EQ(r->manufacturer, "HP");
  EXPECT_EQ(r->disk_serials, (std::vector<std::string>{"D1", "D2"}));
  EXPECT_EQ(r->macs.size(), 3u);
  EXPECT_EQ(r->record_count, 9u);
  EXPECT_EQ(r->architecture, "unknown");
}

TEST(HardwareHash, KernelDiskSerialsAndPaddedPlaceholders) {
  HashBuilder b;
  b.Disk("D1", "disk one")
      .Str(kRecKernelDiskSerial, "D1")
      .Str(kRecKernelDiskSerial, "K2")
      .Str(kRecSerial, std::string(kSmbiosMissing) + "  ")
      .Str(kRecSerial, "REAL");
  Result<HardwareHashInfo> r = DecodeHardwareHash(b.Build());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->disk_serials, (std::vector<std::string>{"D1", "K2"}));
  EXPECT_EQ(r->serial, "REAL");  // a padded placeholder is still "no value"
}

TEST(HardwareHash, RejectsBadChecksum) {
  std::string blob = HashBuilder::Laptop().Build();
  blob[10] ^= 0x01;
  Result<HardwareHashInfo> r = DecodeHardwareHash(blob);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("checksum"), std::string::npos);
}

TEST(HardwareHash, RejectsTruncatedBlob) {
  std::string blob = HashBuilder::Laptop().Build();
  size_t used = DecodeHardwareHash(blob)->used_length;
  for (size_t cut : {size_t{0}, size_t{3}, size_t{39}, size_t{200}, used - 1}) {
    Result<HardwareHashInfo> r = DecodeHardwareHash(blob.substr(0, cut));
    EXPECT_FALSE(r.ok()) << "cut at " << cut;
  }
}

TEST(HardwareHash, RejectsWrongSignatureAndBadRecordLength) {
  std::string blob = HashBuilder::Laptop().Build();
  std::string wrong = blob;
  wrong[0] = 'X';
  EXPECT_FALSE(DecodeHardwareHash(wrong).ok());

  // A record whose length runs past the record area, with a checksum that is otherwise valid.
  HashBuilder b;
  b.Str(kRecSerial, "X");
  std::string bad = b.Build();
  bad[6] = char(0xff);  // the serial record's length
  Result<HardwareHashInfo> r = DecodeHardwareHash(bad);
  EXPECT_FALSE(r.ok());
}

TEST(HardwareHash, NeverCrashesOnGarbage) {
  // Every prefix and a sweep of single-byte corruptions either decode or fail cleanly.
  std::string blob = HashBuilder::Laptop().Build();
  for (size_t i = 0; i < 1200; i += 7) {
    std::string b = blob;
    b[i] = char(b[i] + 0x55);
    (void)DecodeHardwareHash(b);
    (void)DecodeHardwareHash(blob.substr(0, i));
  }
  SUCCEED();
}

TEST(HardwareHash, FingerprintIsShortAndStable) {
  std::string fp = HashFingerprint("abc");
  EXPECT_EQ(fp, "ba7816bf8f01");
  EXPECT_NE(HashFingerprint("abd"), fp);
}

}  // namespace
}  // namespace apm
