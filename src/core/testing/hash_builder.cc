#include "core/testing/hash_builder.h"

#include "core/base64.h"
#include "core/hardware_hash.h"
#include "core/sha256.h"

namespace apm::testing {

HashBuilder& HashBuilder::Raw(uint8_t type, std::string_view value) {
  size_t len = value.size() + 4;
  records_.push_back(char(type));
  records_.push_back('\0');
  records_.push_back(char(len & 0xff));
  records_.push_back(char(len >> 8));
  records_.append(value);
  return *this;
}

HashBuilder& HashBuilder::Str(uint8_t type, std::string_view s, size_t trailing_nuls) {
  std::string v(s);
  v.append(trailing_nuls, '\0');
  return Raw(type, v);
}

HashBuilder& HashBuilder::Arch(uint16_t arch) {
  std::string v = {char(arch & 0xff), char(arch >> 8), '\x0a', '\0', '\x61', '\x4a', '\0', '\0'};
  return Raw(kRecBuildInfo, v);
}

HashBuilder& HashBuilder::Mac(const uint8_t mac[6]) {
  std::string v = {'\x06', '\0', '\0', '\0'};
  v.append(reinterpret_cast<const char*>(mac), 6);
  return Raw(kRecNetworkAdapter, v);
}

HashBuilder& HashBuilder::Disk(std::string_view serial, std::string_view model) {
  std::string v = std::string(serial) + "|" + std::string(model) + "|";
  return Raw(kRecDisk, v);
}

HashBuilder& HashBuilder::Uuid(const uint8_t raw[16]) {
  return Raw(kRecSmbiosUuid, std::string_view(reinterpret_cast<const char*>(raw), 16));
}

HashBuilder& HashBuilder::Tpm(std::string_view version) {
  Str(kRecTpmVersion, version);
  return Raw(kRecTpmEkPublic, std::string(256, '\x5a'));
}

std::string HashBuilder::Build() const {
  std::string blob = "OA";
  size_t end = 4 + records_.size();
  blob.push_back(char(end & 0xff));
  blob.push_back(char(end >> 8));
  blob += records_;
  Sha256Digest d = Sha256(blob);
  blob.append("CS$", 3);
  blob.push_back('\0');
  blob.append(reinterpret_cast<const char*>(d.data()), d.size());
  if (blob.size() < 3000) blob.resize(3000, '\0');
  return blob;
}

HashBuilder HashBuilder::Laptop(std::string_view serial, std::string_view manufacturer,
                                std::string_view model, std::string_view family) {
  static const uint8_t kMac1[6] = {0x00, 0x1a, 0x2b, 0x3c, 0x4d, 0x5e};
  static const uint8_t kMac2[6] = {0xa0, 0xb1, 0xc2, 0xd3, 0xe4, 0xf5};
  static const uint8_t kUuid[16] = {0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66,
                                    0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
  HashBuilder b;
  b.Arch(9)
      .Str(3, "GenuineIntel")
      .Str(4, "Intel(R) Core(TM) Ultra 7", 40)
      .Disk("ACE4_2E00_1234_5678.", "SAMSUNG MZVL2512")
      .Mac(kMac1)
      .Mac(kMac2)
      .Uuid(kUuid)
      .Tpm()
      .Str(kRecSerial, serial)
      .Str(15, "LENOVO")
      .Str(kRecManufacturer, manufacturer)
      .Str(kRecProductName, model)
      .Str(kRecSku, "LENOVO_MT_21R3_BU_Think_FM_ThinkPad")
      .Str(kRecFamily, family)
      .Raw(37, std::string("\x01\x02\x03", 3));
  return b;
}

std::string HashText(const std::string& blob) {
  return Base64Encode(blob);
}

}  // namespace apm::testing
