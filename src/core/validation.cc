#include "core/validation.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "core/base64.h"

namespace apm {
namespace {

// C0 controls, DEL, and the C1 controls U+0080..U+009F (UTF-8: C2 80..C2 9F).
bool HasControlChar(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    auto u = static_cast<unsigned char>(s[i]);
    if (u < 0x20 || u == 0x7f) return true;
    if (u == 0xc2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) <= 0x9f) return true;
  }
  return false;
}

// Invisible characters and direction overrides, which can make one serial render as another:
// U+061C, U+200B..U+200F, U+202A..U+202E, U+2060, U+2066..U+2069, U+FEFF. Valid UTF-8 only.
std::optional<uint32_t> FindDeceptiveChar(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
    uint32_t cp = n == 1 ? c : n == 2 ? c & 0x1f : n == 3 ? c & 0x0f : c & 0x07;
    for (size_t k = 1; k < n && i + k < s.size(); ++k) cp = cp << 6 | (s[i + k] & 0x3f);
    if (cp == 0x061c || (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x202a && cp <= 0x202e) ||
        cp == 0x2060 || (cp >= 0x2066 && cp <= 0x2069) || cp == 0xfeff) {
      return cp;
    }
    i += n;
  }
  return std::nullopt;
}

// Length in characters (code points) of valid UTF-8.
size_t CharCount(std::string_view s) {
  return size_t(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xc0) != 0x80; }));
}

}  // namespace

std::optional<FieldError> CheckText(std::string_view field, std::string& value, size_t min_len,
                                    size_t max_len) {
  value = Trim(value);
  if (!IsValidUtf8(value)) return FieldError{std::string(field), "is not valid UTF-8"};
  if (HasControlChar(value)) {
    return FieldError{std::string(field), "must not contain control characters"};
  }
  if (std::optional<uint32_t> cp = FindDeceptiveChar(value)) {
    char code[16];
    std::snprintf(code, sizeof code, "U+%04X", unsigned(*cp));
    return FieldError{
        std::string(field),
        std::string("must not contain invisible or text-direction characters (") + code + ")"};
  }
  if (value.size() < min_len) return FieldError{std::string(field), "is required"};
  if (CharCount(value) > max_len) {
    return FieldError{std::string(field),
                      "is longer than " + std::to_string(max_len) + " characters"};
  }
  return std::nullopt;
}

namespace {

bool IsProductKey(std::string_view k) {
  if (k.size() != 29) return false;
  for (size_t i = 0; i < k.size(); ++i) {
    bool dash = (i % 6) == 5;
    if (dash ? k[i] != '-' : !std::isalnum(static_cast<unsigned char>(k[i]))) return false;
  }
  return true;
}

bool AnyEqualsIgnoreCase(const std::vector<std::string>& list, std::string_view v) {
  return std::any_of(list.begin(), list.end(),
                     [&](const std::string& e) { return EqualsIgnoreCase(Trim(e), v); });
}

}  // namespace

std::optional<FieldError> ValidateSubmission(DeviceSubmission& s, std::string* blob) {
  if (auto e = CheckText("serialNumber", s.serial_number, 1, kMaxSerialLength)) return e;
  if (auto e = CheckText("manufacturer", s.manufacturer, 0, kMaxNameLength)) return e;
  if (auto e = CheckText("model", s.model, 0, kMaxNameLength)) return e;
  if (auto e = CheckText("clientVersion", s.client_version, 0, 64)) return e;
  if (auto e = CheckText("productKey", s.product_key, 0, 29)) return e;
  if (!s.product_key.empty() && !IsProductKey(s.product_key)) {
    return FieldError{"productKey", "must look like XXXXX-XXXXX-XXXXX-XXXXX-XXXXX"};
  }
  if (s.hardware_hash.empty()) return FieldError{"hardwareHash", "is required"};
  if (s.hardware_hash.size() > (kMaxHashBytes + 2) / 3 * 4) {
    return FieldError{"hardwareHash", "is larger than " + std::to_string(kMaxHashBytes) + " bytes"};
  }
  Result<std::string> decoded = Base64Decode(s.hardware_hash);
  if (!decoded.ok()) {
    return FieldError{"hardwareHash",
                      "is not valid standard base64 (" + decoded.status().message() + ")"};
  }
  if (decoded->empty()) return FieldError{"hardwareHash", "is empty"};
  if (decoded->size() > kMaxHashBytes) {
    return FieldError{"hardwareHash", "is larger than " + std::to_string(kMaxHashBytes) + " bytes"};
  }
  if (blob) *blob = std::move(decoded).value();
  return std::nullopt;
}

const char* VerdictName(VerificationOutcome::Verdict verdict) {
  switch (verdict) {
    case VerificationOutcome::Verdict::kVerified:
      return "verified";
    case VerificationOutcome::Verdict::kMismatch:
      return "mismatch";
    case VerificationOutcome::Verdict::kUnverifiable:
      return "unverifiable";
    case VerificationOutcome::Verdict::kSkipped:
      return "skipped";
  }
  return "unknown";
}

std::string DescribeMismatch(const HashMismatch& mismatch) {
  const char* field = mismatch.field == HashMismatch::Field::kSerialNumber   ? "serial number"
                      : mismatch.field == HashMismatch::Field::kManufacturer ? "manufacturer"
                                                                             : "model";
  return std::string(field) + ": the device reported \"" + mismatch.reported +
         "\" but its hardware hash says \"" + mismatch.in_hash + "\"";
}

VerificationOutcome VerifyDevice(const DeviceSubmission& s, const Result<HardwareHashInfo>& decoded,
                                 HashVerificationMode mode, const AllowList& allow) {
  using Verdict = VerificationOutcome::Verdict;
  VerificationOutcome out;
  out.effective_manufacturer = s.manufacturer;
  out.effective_model = s.model;
  std::vector<std::string> hash_models = {s.model};

  if (!decoded.ok()) {
    out.verdict = Verdict::kUnverifiable;
    out.unverifiable_reason = decoded.status().message();
  } else {
    const HardwareHashInfo& h = *decoded;
    // A field the hash does not carry (SMBIOS placeholder) cannot be compared, only trusted.
    auto mismatch = [&](HashMismatch::Field field, const std::string& client,
                        const std::string& hash) {
      out.mismatches.push_back({field, client, hash});
    };
    // Only what the client claims can contradict the hash; an omitted value is not a claim.
    if (!h.serial.empty() && Trim(h.serial) != s.serial_number) {
      mismatch(HashMismatch::Field::kSerialNumber, s.serial_number, h.serial);
    }
    if (!h.manufacturer.empty() && !s.manufacturer.empty() &&
        !EqualsIgnoreCase(Trim(h.manufacturer), s.manufacturer)) {
      mismatch(HashMismatch::Field::kManufacturer, s.manufacturer, h.manufacturer);
    }
    // Lenovo reports the machine type (record 17) or the friendly name (record 19).
    if (!h.model.empty() && !s.model.empty() && Trim(h.model) != s.model &&
        (h.family.empty() || Trim(h.family) != s.model)) {
      mismatch(HashMismatch::Field::kModel, s.model, h.model);
    }
    out.verdict = out.mismatches.empty() ? Verdict::kVerified : Verdict::kMismatch;
    if (!h.manufacturer.empty()) out.effective_manufacturer = h.manufacturer;
    hash_models.clear();
    if (!h.model.empty()) hash_models.push_back(h.model);
    if (!h.family.empty()) hash_models.push_back(h.family);
    if (hash_models.empty()) hash_models.push_back(s.model);
    out.effective_model = hash_models.front();
  }
  if (mode == HashVerificationMode::kOff) {
    out.verdict = Verdict::kSkipped;
    out.mismatches.clear();
  }

  if (mode == HashVerificationMode::kEnforce && out.verdict == Verdict::kMismatch) {
    out.refused = true;
    out.refusal_code = "hash_mismatch";
    out.refusal_message = "The device information does not match its hardware hash (" +
                          DescribeMismatch(out.mismatches.front()) + ")";
    return out;
  }
  if (allow.use_manufacturers &&
      !AnyEqualsIgnoreCase(allow.manufacturers, Trim(out.effective_manufacturer))) {
    out.refused = true;
    out.refusal_code = "manufacturer_not_allowed";
    out.refusal_message = "Devices made by \"" + out.effective_manufacturer +
                          "\" are not allowed by this organization";
    return out;
  }
  if (allow.use_models &&
      std::none_of(hash_models.begin(), hash_models.end(), [&](const std::string& m) {
        return AnyEqualsIgnoreCase(allow.models, Trim(m));
      })) {
    out.refused = true;
    out.refusal_code = "model_not_allowed";
    out.refusal_message =
        "The model \"" + out.effective_model + "\" is not allowed by this organization";
    return out;
  }
  return out;
}

bool ValidUpn(const std::string& upn) {
  if (!IsValidUtf8(upn)) return false;
  size_t at = upn.find('@');
  if (upn.size() > 256 || at == std::string::npos || at == 0 || at + 1 == upn.size()) return false;
  for (unsigned char c : upn) {
    if (c <= ' ' || c == 0x7f || c == '<' || c == '>' || c == '"') return false;
  }
  return true;
}

}  // namespace apm
