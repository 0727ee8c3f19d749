// A device submission through validation and verification, as the intake runs them: fields
// separated by '\n' (serial, manufacturer, model, hash, product key, client version).
#include <cstdlib>

#include "core/validation.h"
#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> f = apm::fuzz::Fields(data, size, 6);
  apm::DeviceSubmission s{f[0], f[1], f[2], f[3], f[4], f[5]};
  std::string blob;
  if (apm::ValidateSubmission(s, &blob)) return 0;  // refused, with a field and a reason
  // Accepted: what was kept is within the documented limits.
  if (s.serial_number.empty() || s.serial_number.size() > 4 * apm::kMaxSerialLength) std::abort();
  if (blob.size() > apm::kMaxHashBytes) std::abort();
  apm::Result<apm::HardwareHashInfo> decoded = apm::DecodeHardwareHash(blob);
  apm::AllowList allow{.use_manufacturers = true,
                       .manufacturers = {"LENOVO", "HP"},
                       .use_models = true,
                       .models = {"21R3001BUK"}};
  for (auto mode : {apm::HashVerificationMode::kEnforce, apm::HashVerificationMode::kWarn,
                    apm::HashVerificationMode::kOff}) {
    apm::VerificationOutcome v = apm::VerifyDevice(s, decoded, mode, allow);
    if (v.refused && v.refusal_code.empty()) std::abort();
  }
  return 0;
}
