// Test-only encoder for synthetic hardware hashes, so tests can cover the quirks of real ones
// (repeated records, missing TPM, SMBIOS placeholders, trailing NULs, bad checksums, truncation).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace apm::testing {

class HashBuilder {
 public:
  HashBuilder& Raw(uint8_t type, std::string_view value);
  HashBuilder& Str(uint8_t type, std::string_view s, size_t trailing_nuls = 1);
  HashBuilder& Arch(uint16_t arch);
  HashBuilder& Mac(const uint8_t mac[6]);
  HashBuilder& Disk(std::string_view serial, std::string_view model);
  HashBuilder& Uuid(const uint8_t raw[16]);
  HashBuilder& Tpm(std::string_view version = "2.0");

  // A blob padded to 3000 bytes with a correct checksum.
  std::string Build() const;

  // A typical laptop: x64, serial/manufacturer/model/sku/family, two NICs, one disk, a TPM.
  static HashBuilder Laptop(std::string_view serial = "PF3ABCDE",
                            std::string_view manufacturer = "LENOVO",
                            std::string_view model = "21R3001BUK",
                            std::string_view family = "ThinkPad T14s 2-in-1 Gen 1");

 private:
  std::string records_;
};

// The base64 text a client would send for a blob.
std::string HashText(const std::string& blob);

}  // namespace apm::testing
