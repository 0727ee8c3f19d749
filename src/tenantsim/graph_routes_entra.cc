// The simulator's Entra routes: devices, groups and their members, users' group memberships.
#include "core/text.h"
#include "server/clock.h"
#include "server/json_text.h"
#include "tenantsim/graph_query.h"
#include "tenantsim/graph_router.h"
#include "tenantsim/lenient_json.h"

namespace apm::sim {

using json = nlohmann::json;

// ---------------------------------------------------------------------------------------------
// Entra: devices, groups, users

GraphAnswer GraphRouter::ListDevices(const GraphCall& call, const Params&) {
  return Collection(call, model_.ListDevices(), "devices", false, false, true, {});
}

GraphAnswer GraphRouter::GetDevice(const GraphCall& call, const Params& p) {
  std::optional<json> device = model_.GetDevice(p[0]);
  if (!device) {
    return ResourceNotFound(call, p[0]);
  }
  json out = {{"@odata.context", kMetadata + call.version + "/$metadata#devices/$entity"}};
  out.update(*device);
  return Json(call, 200, std::move(out));
}

GraphAnswer GraphRouter::ListGroups(const GraphCall& call, const Params&) {
  return Collection(call, model_.ListGroups(), "groups", false, false, true, {});
}

GraphAnswer GraphRouter::GetGroup(const GraphCall& call, const Params& p) {
  std::optional<json> group = model_.GetGroup(p[0]);
  if (!group) {
    return ResourceNotFound(call, p[0]);
  }
  json out = {{"@odata.context", kMetadata + call.version + "/$metadata#groups/$entity"}};
  out.update(*group);
  return Json(call, 200, std::move(out));
}

GraphAnswer GraphRouter::ListMembers(const GraphCall& call, const Params& p) {
  std::optional<std::vector<json>> members = model_.ListGroupMembers(p[0]);
  if (!members) {
    return ResourceNotFound(call, p[0]);
  }
  return Collection(call, std::move(*members), "directoryObjects", false, false, false, {});
}

GraphAnswer GraphRouter::AddMemberRef(const GraphCall& call, const Params& p) {
  json body = json::parse(call.body, nullptr, false);
  bool ok = body.is_object();
  std::string url = ok ? StringField(body, "@odata.id", &ok) : "";
  std::optional<std::string> oid = ok ? ObjectIdFromUrl(url) : std::nullopt;
  if (!oid) {
    return GraphError(call, 400, "Request_BadRequest",
                      "Invalid URL format specified in @odata.id: '" + url + "'.");
  }
  if (std::optional<ApiError> e = model_.AddMembers(p[0], {*oid})) {
    return GraphError(call, e->status, e->code, e->message);
  }
  return NoContent(call);
}

GraphAnswer GraphRouter::RemoveMemberRef(const GraphCall& call, const Params& p) {
  if (std::optional<ApiError> e = model_.RemoveMember(p[0], p[1])) {
    return GraphError(call, e->status, e->code, e->message);
  }
  return NoContent(call);
}

GraphAnswer GraphRouter::PatchGroup(const GraphCall& call, const Params& p) {
  json body = json::parse(call.body, nullptr, false);
  if (!body.is_object()) {
    return GraphError(call, 400, "BadRequest", "The request body is not a JSON object.");
  }
  if (!model_.GetGroup(p[0])) {
    return ResourceNotFound(call, p[0]);
  }
  auto bind = body.find("members@odata.bind");
  if (bind == body.end()) return NoContent(call);  // other properties are not modelled
  if (!bind->is_array()) {
    return GraphError(call, 400, "Request_BadRequest", "members@odata.bind must be an array.");
  }
  if (bind->size() > kMaxMembersPerPatch) {
    // The documented limit is 20; this wording is the simulator's.
    return GraphError(call, 400, "Request_BadRequest",
                      "The request adds " + std::to_string(bind->size()) +
                          " members; at most 20 may be added in one request.");
  }
  std::vector<std::string> ids;
  for (const json& item : *bind) {
    std::optional<std::string> oid =
        item.is_string() ? ObjectIdFromUrl(item.get<std::string>()) : std::nullopt;
    if (!oid) {
      return GraphError(call, 400, "Request_BadRequest",
                        "Invalid URL format specified in members@odata.bind.");
    }
    ids.push_back(*oid);
  }
  if (std::optional<ApiError> e = model_.AddMembers(p[0], ids)) {
    // All or nothing; an unknown object is a bad request here rather than a 404.
    if (e->status == 404) {
      return GraphError(call, 400, "Request_BadRequest",
                        "Invalid object identifier in members@odata.bind. " + e->message);
    }
    return GraphError(call, e->status, e->code, e->message);
  }
  return NoContent(call);
}

GraphAnswer GraphRouter::MemberObjects(const GraphCall& call, const Params& p) {
  json body = json::parse(call.body, nullptr, false);
  if (!body.is_object() || !body.contains("securityEnabledOnly") ||
      !body["securityEnabledOnly"].is_boolean()) {
    return GraphError(call, 400, "Request_BadRequest",
                      "The request body must carry a boolean 'securityEnabledOnly'.");
  }
  std::optional<std::vector<std::string>> groups =
      model_.MemberObjects(p[0], body["securityEnabledOnly"].get<bool>());
  if (!groups) {
    return ResourceNotFound(call, p[0]);
  }
  return Json(call, 200,
              {{"@odata.context", kMetadata + call.version + "/$metadata#Collection(Edm.String)"},
               {"value", *groups}});
}

}  // namespace apm::sim
