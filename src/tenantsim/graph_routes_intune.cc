// The simulator's Intune routes: imported identities, Autopilot devices, sync and settings.
#include "core/base64.h"
#include "core/text.h"
#include "server/http/form.h"
#include "server/json_text.h"
#include "tenantsim/graph_query.h"
#include "tenantsim/graph_router.h"
#include "tenantsim/lenient_json.h"

namespace apm::sim {

using json = nlohmann::json;

// ---------------------------------------------------------------------------------------------
// importedWindowsAutopilotDeviceIdentities

namespace {

// The body fields of one imported identity; nullopt when a field has the wrong type.
std::optional<ImportInput> ImportFromJson(const json& j) {
  if (!j.is_object()) return std::nullopt;
  bool ok = true;
  ImportInput in;
  in.serial_number = StringField(j, "serialNumber", &ok);
  in.group_tag = StringField(j, "groupTag", &ok);
  in.product_key = StringField(j, "productKey", &ok);
  in.hardware_identifier = StringField(j, "hardwareIdentifier", &ok);
  in.assigned_user_principal_name = StringField(j, "assignedUserPrincipalName", &ok);
  // A client-supplied "state" is accepted and ignored, as the service does.
  if (!ok) return std::nullopt;
  return in;
}

}  // namespace

GraphAnswer GraphRouter::CreateImport(const GraphCall& call, const Params&) {
  json body = json::parse(call.body, nullptr, false);
  std::optional<ImportInput> in = ImportFromJson(body);
  if (!in) {
    return GraphError(call, 400, "BadRequest",
                      "The request body is not a valid importedWindowsAutopilotDeviceIdentity.");
  }
  if (!Base64Decode(in->hardware_identifier).ok()) {
    return GraphError(call, 400, "BadRequest",
                      "Cannot convert the literal '" + in->hardware_identifier +
                          "' to the expected type 'Edm.Binary'.");
  }
  json record = model_.Import({*in}).front();
  json out = {{"@odata.context", kMetadata + call.version +
                                     "/$metadata#deviceManagement/"
                                     "importedWindowsAutopilotDeviceIdentities/$entity"}};
  out.update(record);
  return Json(call, 201, std::move(out));
}

GraphAnswer GraphRouter::ImportBatch(const GraphCall& call, const Params&) {
  json body = json::parse(call.body, nullptr, false);
  const json* list = nullptr;
  if (body.is_object()) {
    auto it = body.find("importedWindowsAutopilotDeviceIdentities");
    if (it != body.end() && it->is_array()) list = &*it;
  }
  if (!list) {
    return GraphError(call, 400, "BadRequest",
                      "The request body must carry an 'importedWindowsAutopilotDeviceIdentities' "
                      "array.");
  }
  size_t limit = model_.config().max_import_batch;
  if (list->size() > limit) {
    return IntuneError(call, 400, "BadRequest",
                       "An import may carry at most " + std::to_string(limit) + " devices; got " +
                           std::to_string(list->size()) + ".");
  }
  std::vector<ImportInput> inputs;
  for (const json& item : *list) {
    std::optional<ImportInput> in = ImportFromJson(item);
    if (!in) {
      return GraphError(call, 400, "BadRequest",
                        "An element is not a valid importedWindowsAutopilotDeviceIdentity.");
    }
    if (!Base64Decode(in->hardware_identifier).ok()) {
      return GraphError(call, 400, "BadRequest",
                        "Cannot convert the literal '" + in->hardware_identifier +
                            "' to the expected type 'Edm.Binary'.");
    }
    inputs.push_back(std::move(*in));
  }
  std::vector<json> records = inputs.empty() ? std::vector<json>() : model_.Import(inputs);
  return Json(
      call, 200,
      {{"@odata.context",
        kMetadata + call.version +
            "/$metadata#Collection(microsoft.graph.importedWindowsAutopilotDeviceIdentity)"},
       {"value", records}});
}

GraphAnswer GraphRouter::GetImport(const GraphCall& call, const Params& p) {
  std::optional<json> record = model_.GetImport(p[0]);
  if (!record) {
    return IntuneError(call, 404, "ResourceNotFound",
                       "importedWindowsAutopilotDeviceIdentity " + p[0] + " was not found.");
  }
  json out = {{"@odata.context", kMetadata + call.version +
                                     "/$metadata#deviceManagement/"
                                     "importedWindowsAutopilotDeviceIdentities/$entity"}};
  out.update(*record);
  return Json(call, 200, std::move(out));
}

GraphAnswer GraphRouter::ListImports(const GraphCall& call, const Params&) {
  return Collection(call, model_.ListImports(),
                    "deviceManagement/importedWindowsAutopilotDeviceIdentities", true, true, false,
                    {"serialNumber"});
}

GraphAnswer GraphRouter::DeleteImport(const GraphCall& call, const Params& p) {
  if (!model_.DeleteImport(p[0])) {
    return IntuneError(call, 404, "ResourceNotFound",
                       "importedWindowsAutopilotDeviceIdentity " + p[0] + " was not found.");
  }
  return NoContent(call);
}

// ---------------------------------------------------------------------------------------------
// windowsAutopilotDeviceIdentities and windowsAutopilotSettings

namespace {

std::string DeviceNotFound(const std::string& id) {
  return "windowsAutopilotDeviceIdentity " + id + " was not found.";
}

}  // namespace

GraphAnswer GraphRouter::GetAutopilot(const GraphCall& call, const Params& p) {
  bool beta = call.version == "beta";
  std::optional<json> device = model_.GetAutopilotDevice(p[0], beta);
  if (!device) return IntuneError(call, 404, "ResourceNotFound", DeviceNotFound(p[0]));
  json out = {{"@odata.context",
               kMetadata + call.version +
                   "/$metadata#deviceManagement/windowsAutopilotDeviceIdentities/$entity"}};
  out.update(*device);
  // $expand=deploymentProfile,intendedDeploymentProfile: no profiles are modelled.
  std::optional<std::map<std::string, std::string>> query = ParseForm(call.query);
  if (beta && query && query->contains("$expand")) {
    out["deploymentProfile"] = nullptr;
    out["intendedDeploymentProfile"] = nullptr;
  }
  return Json(call, 200, std::move(out));
}

GraphAnswer GraphRouter::ListAutopilot(const GraphCall& call, const Params&) {
  // contains() works on the string properties; eq answers 400 as the real service does (§3).
  return Collection(call, model_.ListAutopilotDevices(call.version == "beta"),
                    "deviceManagement/windowsAutopilotDeviceIdentities", true, true, false, {});
}

GraphAnswer GraphRouter::DeleteAutopilot(const GraphCall& call, const Params& p) {
  if (std::optional<ApiError> e = model_.DeleteAutopilotDevice(p[0])) {
    return IntuneError(call, e->status, e->code, e->message);
  }
  return NoContent(call);
}

// ---------------------------------------------------------------------------------------------
// managedDevices: the Intune side of a registration, deleted before a re-registration

GraphAnswer GraphRouter::ListManaged(const GraphCall& call, const Params&) {
  // Tools filter by serial with eq or startsWith; eq and contains are what the simulator reads.
  return Collection(call, model_.ListManagedDevices(), "deviceManagement/managedDevices", true,
                    true, true, {"serialNumber", "deviceName", "azureADDeviceId"});
}

GraphAnswer GraphRouter::GetManaged(const GraphCall& call, const Params& p) {
  std::optional<json> device = model_.GetManagedDevice(p[0]);
  if (!device) {
    return IntuneError(call, 404, "ResourceNotFound", "managedDevice " + p[0] + " was not found.");
  }
  json out = {{"@odata.context",
               kMetadata + call.version + "/$metadata#deviceManagement/managedDevices/$entity"}};
  out.update(*device);
  return Json(call, 200, std::move(out));
}

GraphAnswer GraphRouter::DeleteManaged(const GraphCall& call, const Params& p) {
  if (!model_.DeleteManagedDevice(p[0])) {
    return IntuneError(call, 404, "ResourceNotFound", "managedDevice " + p[0] + " was not found.");
  }
  return NoContent(call);
}

GraphAnswer GraphRouter::AssignUser(const GraphCall& call, const Params& p) {
  json body = ParseLenientJson(call.body);
  bool ok = body.is_object();
  std::string upn = ok ? StringField(body, "userPrincipalName", &ok) : "";
  std::string addressable = ok ? StringField(body, "addressableUserName", &ok) : "";
  if (!ok || upn.empty()) {
    return IntuneError(call, 400, "BadRequest", "assignUserToDevice needs a userPrincipalName.");
  }
  if (!model_.AssignUser(p[0], upn, addressable)) {
    return IntuneError(call, 404, "ResourceNotFound", DeviceNotFound(p[0]));
  }
  return NoContent(call);
}

GraphAnswer GraphRouter::UnassignUser(const GraphCall& call, const Params& p) {
  if (!model_.UnassignUser(p[0])) {
    return IntuneError(call, 404, "ResourceNotFound", DeviceNotFound(p[0]));
  }
  return NoContent(call);
}

GraphAnswer GraphRouter::UpdateProperties(const GraphCall& call, const Params& p) {
  json body = ParseLenientJson(call.body);
  if (!body.is_object()) {
    return IntuneError(call, 400, "BadRequest", "updateDeviceProperties needs a JSON object.");
  }
  bool ok = true;
  for (const char* key : {"displayName", "groupTag", "userPrincipalName", "addressableUserName"}) {
    StringField(body, key, &ok);
  }
  if (!ok) {
    return IntuneError(call, 400, "BadRequest", "updateDeviceProperties takes string values.");
  }
  if (!model_.UpdateDeviceProperties(p[0], body)) {
    return IntuneError(call, 404, "ResourceNotFound", DeviceNotFound(p[0]));
  }
  return NoContent(call);
}

GraphAnswer GraphRouter::Sync(const GraphCall& call, const Params&) {
  if (std::optional<ApiError> e = model_.Sync()) {
    return IntuneError(call, e->status, e->code, e->message, e->retry_after_seconds);
  }
  return NoContent(call);
}

// Always with its assignments, as `$expand=assignments` asks (the only way we read it).
GraphAnswer GraphRouter::ListDeploymentProfiles(const GraphCall& call, const Params&) {
  return Json(call, 200,
              {{"@odata.context", kMetadata + call.version +
                                      "/$metadata#deviceManagement/"
                                      "windowsAutopilotDeploymentProfiles(assignments())"},
               {"value", model_.DeploymentProfiles()}});
}

GraphAnswer GraphRouter::GetSettings(const GraphCall& call, const Params&) {
  json out = {{"@odata.context", kMetadata + call.version +
                                     "/$metadata#deviceManagement/windowsAutopilotSettings/"
                                     "$entity"}};
  out.update(model_.AutopilotSettings());
  return Json(call, 200, std::move(out));
}

}  // namespace apm::sim
