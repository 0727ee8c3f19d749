// Validation of what a client submits, and the hash-based verification policy.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/hardware_hash.h"
#include "core/status.h"
#include "core/text.h"

namespace apm {

inline constexpr size_t kMaxSerialLength = 128;
inline constexpr size_t kMaxNameLength = 256;      // manufacturer, model
inline constexpr size_t kMaxHashBytes = 8 * 1024;  // decoded blob

// What a client sends about its device (field names as in the v1 API).
struct DeviceSubmission {
  std::string serial_number;
  std::string manufacturer;
  std::string model;
  std::string hardware_hash;   // standard base64 text
  std::string product_key;     // optional
  std::string client_version;  // optional
};

// A rejected field: which one, and why, in words a client can show.
struct FieldError {
  std::string field;
  std::string message;
};

// Trims `value` and checks it is text a person typed: valid UTF-8, no control characters (they
// would reach pages, CSVs and the device's console), no invisible or direction-changing
// characters, between min_len bytes and max_len characters.
std::optional<FieldError> CheckText(std::string_view field, std::string& value, size_t min_len,
                                    size_t max_len);

// A user principal name like user@contoso.com.
bool ValidUpn(const std::string& upn);

// Checks and normalises (trims) a submission; on success `blob` holds the decoded hash bytes.
std::optional<FieldError> ValidateSubmission(DeviceSubmission& submission, std::string* blob);

enum class HashVerificationMode { kEnforce, kWarn, kOff };

struct AllowList {
  bool use_manufacturers = false;
  std::vector<std::string> manufacturers;
  bool use_models = false;
  std::vector<std::string> models;
};

// A device fact the client claimed that its hardware hash contradicts. Each reader words it in
// its own language (the client's catalogue; DescribeMismatch for the server's English).
struct HashMismatch {
  enum class Field { kSerialNumber, kManufacturer, kModel };
  Field field;
  std::string reported;
  std::string in_hash;
};

// "serial number: the device reported "X" but its hardware hash says "Y"".
std::string DescribeMismatch(const HashMismatch& mismatch);

struct VerificationOutcome {
  enum class Verdict { kVerified, kMismatch, kUnverifiable, kSkipped };
  Verdict verdict = Verdict::kSkipped;
  std::vector<HashMismatch> mismatches;
  std::string unverifiable_reason;
  bool refused = false;      // refused by enforce mode (mismatch) or by the allow-list
  std::string refusal_code;  // "hash_mismatch", "manufacturer_not_allowed", "model_not_allowed"
  std::string refusal_message;
  // The values the allow-list was applied to (from the hash when it decoded).
  std::string effective_manufacturer;
  std::string effective_model;
};

const char* VerdictName(VerificationOutcome::Verdict verdict);

// Compares the client's claims with the decoded hash and applies the allow-list.
VerificationOutcome VerifyDevice(const DeviceSubmission& submission,
                                 const Result<HardwareHashInfo>& decoded, HashVerificationMode mode,
                                 const AllowList& allow);

}  // namespace apm
