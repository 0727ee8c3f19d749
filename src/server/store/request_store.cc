#include "server/store/request_store.h"

namespace apm {
namespace {

constexpr std::pair<ImportPhase, std::string_view> kPhaseNames[] = {
    {ImportPhase::kImport, "import"},
    {ImportPhase::kWaitImport, "wait_import"},
    {ImportPhase::kDeleteImport, "delete_import"},
    {ImportPhase::kWaitDevice, "wait_device"},
    {ImportPhase::kFindEntraDevice, "find_entra_device"},
    {ImportPhase::kAddToGroup, "add_to_group"},
    {ImportPhase::kSetProperties, "set_properties"},
    {ImportPhase::kWaitProfile, "wait_profile"},
    {ImportPhase::kDone, "done"},
};

}  // namespace

std::string_view ImportPhaseName(ImportPhase phase) {
  for (const auto& [p, name] : kPhaseNames) {
    if (p == phase) return name;
  }
  return "done";
}

std::optional<ImportPhase> ParseImportPhase(std::string_view name) {
  for (const auto& [p, n] : kPhaseNames) {
    if (n == name) return p;
  }
  return std::nullopt;
}

}  // namespace apm
