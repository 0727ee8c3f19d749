// The simulator's importedDeviceIdentities routes (APv2 corporate identifiers, beta only):
// search, import a list, list, get and delete. Facts: docs/graph-facts.md#apv2.
#include "core/text.h"
#include "tenantsim/graph_query.h"
#include "tenantsim/graph_router.h"

namespace apm::sim {

using json = nlohmann::json;

namespace {

constexpr const char* kTypes[] = {"unknown", "imei", "serialNumber", "manufacturerModelSerial"};

// Windows' tuple: three parts split by commas, none empty, no periods (Graph's observed 400).
bool ValidIdentifier(const std::string& type, const std::string& identifier) {
  if (identifier.empty()) return false;
  if (type != "manufacturerModelSerial") return true;
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (;;) {
    size_t comma = identifier.find(',', start);
    parts.push_back(std::string_view(identifier).substr(start, comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (parts.size() != 3) return false;
  for (std::string_view p : parts) {
    if (Trim(p).empty() || p.find('.') != std::string_view::npos) return false;
  }
  return true;
}

// The (type, identifier) items of a request body; how many are invalid in *bad. nullopt when
// the body has no such list.
std::optional<std::vector<std::pair<std::string, std::string>>> Items(const json& body, int* bad) {
  if (!body.is_object()) return std::nullopt;
  auto list = body.find("importedDeviceIdentities");
  if (list == body.end() || !list->is_array()) return std::nullopt;
  std::vector<std::pair<std::string, std::string>> items;
  *bad = 0;
  for (const json& item : *list) {
    bool ok = item.is_object();
    std::string type = ok ? StringField(item, "importedDeviceIdentityType", &ok) : "";
    std::string identifier = ok ? StringField(item, "importedDeviceIdentifier", &ok) : "";
    const bool known = std::find(std::begin(kTypes), std::end(kTypes), type) != std::end(kTypes);
    if (!ok || !known) return std::nullopt;
    if (!ValidIdentifier(type, identifier)) ++*bad;
    items.emplace_back(type, identifier);
  }
  return items;
}

}  // namespace

std::optional<GraphAnswer> GraphRouter::IdentityItems(
    const GraphCall& call, std::vector<std::pair<std::string, std::string>>* items) {
  int bad = 0;
  std::optional<std::vector<std::pair<std::string, std::string>>> read =
      Items(json::parse(call.body, nullptr, false), &bad);
  if (!read) {
    return IntuneError(call, 400, "BadRequest",
                       "The request body must carry an 'importedDeviceIdentities' array of "
                       "{importedDeviceIdentityType, importedDeviceIdentifier}.");
  }
  if (bad > 0) {
    return IntuneError(call, 400, "BadRequest",
                       "Invalid Device Identifier parameter found for " + std::to_string(bad) +
                           " import records!");
  }
  *items = std::move(*read);
  return std::nullopt;
}

GraphAnswer GraphRouter::SearchIdentities(const GraphCall& call, const Params&) {
  std::vector<std::pair<std::string, std::string>> items;
  if (std::optional<GraphAnswer> bad = IdentityItems(call, &items)) return *bad;
  return Json(
      call, 200,
      {{"@odata.context",
        kMetadata + call.version + "/$metadata#Collection(microsoft.graph.importedDeviceIdentity)"},
       {"value", model_.SearchIdentities(items)}});
}

GraphAnswer GraphRouter::ImportIdentityList(const GraphCall& call, const Params&) {
  std::vector<std::pair<std::string, std::string>> items;
  if (std::optional<GraphAnswer> bad = IdentityItems(call, &items)) return *bad;
  json body = json::parse(call.body, nullptr, false);
  bool overwrite = body.value("overwriteImportedDeviceIdentities", false);
  return Json(call, 200,
              {{"@odata.context",
                kMetadata + call.version +
                    "/$metadata#Collection(microsoft.graph.importedDeviceIdentityResult)"},
               {"value", model_.ImportIdentities(items, overwrite)}});
}

GraphAnswer GraphRouter::ListIdentities(const GraphCall& call, const Params&) {
  return Collection(call, model_.ListIdentities(), "deviceManagement/importedDeviceIdentities",
                    true, true, true, {"importedDeviceIdentifier"});
}

GraphAnswer GraphRouter::GetIdentity(const GraphCall& call, const Params& p) {
  std::optional<json> identity = model_.GetIdentity(p[0]);
  if (!identity) {
    return IntuneError(call, 404, "ResourceNotFound",
                       "importedDeviceIdentity " + p[0] + " was not found.");
  }
  json out = {
      {"@odata.context",
       kMetadata + call.version + "/$metadata#deviceManagement/importedDeviceIdentities/$entity"}};
  out.update(*identity);
  return Json(call, 200, std::move(out));
}

GraphAnswer GraphRouter::DeleteIdentity(const GraphCall& call, const Params& p) {
  if (!model_.DeleteIdentity(p[0])) {
    return IntuneError(call, 404, "ResourceNotFound",
                       "importedDeviceIdentity " + p[0] + " was not found.");
  }
  return NoContent(call);
}

}  // namespace apm::sim
