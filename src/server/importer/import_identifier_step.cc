// The import engine's APv2 phase: register the device's corporate identifier. It always asks
// first whether Intune holds the identifier, so a repeat after a lost answer or a restart finds
// the earlier registration instead of sending a second one; it never overwrites.
#include "core/corporate_identifier.h"
#include "server/importer/import_engine.h"
#include "server/importer/import_slot.h"
#include "server/logging.h"

namespace apm {

namespace {

constexpr const char* kAlreadyRegistered = "Already registered as a corporate device";

}  // namespace

void ImportEngine::DoRegisterIdentifier(Batch& batch) {
  for (auto& slot : batch) {
    if (!LoadRequest(*slot)) continue;
    CorporateIdentifier id;
    if (std::optional<FieldError> e =
            MakeCorporateIdentifier(slot->manufacturer, slot->model, slot->serial, &id)) {
      Fail(*slot, RequestError{0, "InvalidCorporateIdentifier",
                               "The " + e->field + " " + e->message + "."});
      continue;
    }
    const std::string text = id.Text();
    Result<bool> held = graph_.CorporateIdentifierExists(text);
    if (!held.ok()) {
      CallFailed(*slot, held.status());
      continue;
    }
    if (*held) {
      // Ours from an attempt whose answer was lost, or there before: either way it is done.
      Complete(*slot, slot->job.import_attempts > 0 ? "" : kAlreadyRegistered);
      continue;
    }
    ++slot->job.import_attempts;  // saved before the call, like an import
    if (!Save(*slot, slot->state, slot->step, std::nullopt)) {
      --slot->job.import_attempts;
      CallFailed(*slot, Status::Unavailable("the registration attempt could not be recorded"));
      continue;
    }
    LogInfo("registering a corporate identifier", {{"request", slot->job.request_id}});
    Result<bool> created = graph_.ImportCorporateIdentifier(text);
    if (!created.ok()) {
      CallFailed(*slot, created.status());
    } else {
      Complete(*slot, *created ? "" : kAlreadyRegistered);
    }
  }
}

}  // namespace apm
