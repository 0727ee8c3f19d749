// IntakeService's bulk upload: a reseller's or OEM's CSV, row by row through the same intake as
// a device's own submission.
#include "core/autopilot_csv.h"
#include "core/base64.h"
#include "core/hardware_hash.h"
#include "core/validation.h"
#include "server/intake_service.h"
#include "server/logging.h"

namespace apm {
namespace {

// What became of a row, in words for the person who uploaded it.
std::string RefusalText(const IntakeResult& r) {
  using Kind = IntakeResult::Kind;
  switch (r.kind) {
    case Kind::kCreated:
    case Kind::kExisting:
      return "";
    case Kind::kSerialBusy:
      return "this serial number already has an open request with another hardware hash";
    case Kind::kInvalid:
      return r.invalid.field + " " + r.invalid.message;
    case Kind::kRefused:
    case Kind::kDecisionUnavailable:
      return r.refusal_message;
    case Kind::kRateLimited:
    case Kind::kTooManyOpen:
      return "too many requests";
    case Kind::kIdTaken:
    case Kind::kUnavailable:
      break;
  }
  return "it could not be stored (" + r.error.message() + "); upload the file again";
}

}  // namespace

Result<std::vector<IntakeService::UploadOutcome>> IntakeService::SubmitUpload(std::string_view csv,
                                                                              const Uploader& by) {
  const std::string& who = by.name;
  Result<std::vector<AutopilotCsvRow>> rows = ParseAutopilotCsv(csv);
  if (!rows.ok()) return rows.status();
  // Recorded before the first request is stored, so none is ever there without it.
  Record("upload", "", std::to_string(rows->size()) + " rows", who, &by);
  std::vector<UploadOutcome> outcomes;
  int created = 0;
  for (AutopilotCsvRow& row : *rows) {
    UploadOutcome& o = outcomes.emplace_back();
    o.line = row.line;
    o.serial_number = row.serial_number;
    o.group_tag = row.group_tag;
    if (!row.error.empty()) {
      o.refusal = row.error;
      continue;
    }
    // The file names no manufacturer or model: the hash itself does.
    Result<std::string> blob = Base64Decode(row.hardware_hash);
    Result<HardwareHashInfo> facts =
        blob.ok() ? DecodeHardwareHash(*blob) : Result<HardwareHashInfo>(blob.status());
    if (!facts.ok()) {
      o.refusal = "the Hardware Hash cannot be read: " + facts.status().message();
      continue;
    }
    UploadedRow extras{row.group_tag, row.assigned_user};
    if (std::optional<FieldError> e = CheckText("Group Tag", extras.group_tag, 0, 100)) {
      o.refusal = e->field + " " + e->message;
      continue;
    }
    if (!extras.assigned_user.empty() && !ValidUpn(extras.assigned_user)) {
      o.refusal = "Assigned User must be a user principal name like user@contoso.com";
      continue;
    }
    DeviceSubmission s{row.serial_number, facts->manufacturer, facts->model,
                       row.hardware_hash, row.product_id,      "csv upload"};
    IntakeResult r = Accept(std::move(s), who, "upload", "", ApprovalAction::kImport,
                            /*bypass_functions=*/false, &extras);
    o.refusal = RefusalText(r);
    if (o.refusal.empty()) {
      o.request_id = r.request.id;
      o.existing = r.kind == IntakeResult::Kind::kExisting;
      created += o.existing ? 0 : 1;
    }
  }
  LogInfo("upload read",
          {{"by", who},
           {"rows", int64_t(outcomes.size())},
           {"created", created},
           {"refused",
            int64_t(std::count_if(outcomes.begin(), outcomes.end(),
                                  [](const UploadOutcome& o) { return !o.refusal.empty(); }))}});
  Record("upload_done", "", std::to_string(created) + " new requests", who, &by);
  return outcomes;
}

}  // namespace apm
