// The simulated tenant's APv2 corporate identifiers (importedDeviceIdentities).
#include "core/text.h"
#include "tenantsim/graph_model.h"

namespace apm::sim {

using json = nlohmann::json;

json GraphModel::IdentityJsonLocked(const Identity& i) const {
  return {{"@odata.type", "#microsoft.graph.importedDeviceIdentity"},
          {"id", i.id},
          {"importedDeviceIdentifier", i.identifier},
          {"importedDeviceIdentityType", i.type},
          {"lastModifiedDateTime", FormatTimestamp(i.modified_ms)},
          {"createdDateTime", FormatTimestamp(i.created_ms)},
          {"lastContactedDateTime", "0001-01-01T00:00:00Z"},
          {"description", i.description},
          {"enrollmentState", "notContacted"},
          {"platform", "windows"}};
}

std::vector<json> GraphModel::SearchIdentities(
    const std::vector<std::pair<std::string, std::string>>& wanted) const {
  std::lock_guard lock(mu_);
  std::vector<json> out;
  for (const auto& [id, i] : identities_) {
    for (const auto& [type, identifier] : wanted) {
      if (EqualsIgnoreCase(i.type, type) && EqualsIgnoreCase(i.identifier, identifier)) {
        out.push_back(IdentityJsonLocked(i));
        break;
      }
    }
  }
  return out;
}

std::vector<json> GraphModel::ImportIdentities(
    const std::vector<std::pair<std::string, std::string>>& items, bool overwrite) {
  std::lock_guard lock(mu_);
  const int64_t now = clock_.NowMs();
  std::vector<json> out;
  for (const auto& [type, identifier] : items) {
    Identity* held = nullptr;
    for (auto& [id, i] : identities_) {
      if (EqualsIgnoreCase(i.type, type) && EqualsIgnoreCase(i.identifier, identifier)) held = &i;
    }
    bool created = false;
    if (!held) {
      Identity i{NewGuidLocked(), type, identifier, "", now, now};
      held = &(identities_[i.id] = i);
      ++stats_.identity_imports_by_identifier[identifier];
      created = true;
    } else if (overwrite) {
      held->identifier = identifier;
      held->modified_ms = now;
      created = true;
    }
    json result = IdentityJsonLocked(*held);
    result["@odata.type"] = "#microsoft.graph.importedDeviceIdentityResult";
    result["status"] = created;
    out.push_back(std::move(result));
  }
  return out;
}

std::vector<json> GraphModel::ListIdentities() const {
  std::lock_guard lock(mu_);
  std::vector<json> out;
  for (const auto& [id, i] : identities_) out.push_back(IdentityJsonLocked(i));
  return out;
}

std::optional<json> GraphModel::GetIdentity(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = identities_.find(id);
  if (it == identities_.end()) return std::nullopt;
  return IdentityJsonLocked(it->second);
}

bool GraphModel::DeleteIdentity(const std::string& id) {
  std::lock_guard lock(mu_);
  return identities_.erase(id) > 0;
}

}  // namespace apm::sim
