// The Microsoft Graph routes of apm-tenant-sim, independent of HTTP plumbing: one call in, one
// answer out, so $batch sub-requests go through exactly the same routing, authorisation,
// throttling and fault injection as top-level requests. Facts: docs/graph-facts.md.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "server/clock.h"
#include "tenantsim/graph_model.h"
#include "tenantsim/identity.h"

namespace apm::sim {

struct GraphCall {
  std::string method;   // "GET", "POST", …
  std::string version;  // "v1.0" or "beta"
  std::string path;     // after the version, undecoded, e.g. "/deviceManagement/…"
  std::string query;    // undecoded, without '?'
  std::map<std::string, std::string> headers;  // names lower-case
  std::string body;
  std::string base_url;  // "http://host:port" the client used, for @odata.nextLink
  // Set for $batch sub-requests: the envelope's app, already authenticated, and its user ("" for
  // app-only tokens).
  std::optional<SimApp> app;
  std::string user_id = "";
};

struct GraphAnswer {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::optional<nlohmann::json> body;  // none for 204
  bool drop_connection = false;        // injected: write nothing, close the connection
  std::string fault;                   // "" or what was injected, for X-Apm-Sim-Fault
  int64_t delay_ms = 0;                // injected slow answer
  std::string route;                   // e.g. "POST /beta/groups/{id}/members/$ref"
};

class GraphRouter {
 public:
  GraphRouter(Identity& identity, GraphModel& model, const Clock& clock);

  // One request under /v1.0 or /beta, the $batch envelope included.
  GraphAnswer Dispatch(const GraphCall& call);

 private:
  struct Route;
  using Params = std::vector<std::string>;
  // What a call's path and method name.
  struct Lookup {
    std::vector<std::string> segments;  // percent-decoded
    bool is_batch = false;
    bool path_known = false;  // some route has this path (a wrong method is a 405)
    const Route* route = nullptr;
    Params params;
  };
  Lookup FindRoute(const GraphCall& call);
  // The caller's app and user; an answer when the token is missing or not valid.
  std::optional<GraphAnswer> Authenticate(const GraphCall& call, SimApp* app, std::string* user_id);
  GraphAnswer Answer(const GraphCall& call, Lookup& lookup);
  // Runs the route, unless the fault generator decides otherwise.
  GraphAnswer RunWithFaults(const GraphCall& call, const Route& route, const Params& params);
  // Graph's request-id and client-request-id headers, and the route key for the statistics.
  GraphAnswer WithRequestIds(const GraphCall& call, GraphAnswer a, const std::string& key);

  GraphAnswer Batch(const GraphCall& call, const SimApp& app, const std::string& user_id);

  GraphAnswer CreateImport(const GraphCall& call, const Params& p);
  GraphAnswer ImportBatch(const GraphCall& call, const Params& p);
  GraphAnswer GetImport(const GraphCall& call, const Params& p);
  GraphAnswer ListImports(const GraphCall& call, const Params& p);
  GraphAnswer DeleteImport(const GraphCall& call, const Params& p);
  GraphAnswer GetAutopilot(const GraphCall& call, const Params& p);
  GraphAnswer ListAutopilot(const GraphCall& call, const Params& p);
  GraphAnswer DeleteAutopilot(const GraphCall& call, const Params& p);
  // The items of an identity search or import, or the 400 Graph answers for them.
  std::optional<GraphAnswer> IdentityItems(const GraphCall& call,
                                           std::vector<std::pair<std::string, std::string>>* items);
  GraphAnswer SearchIdentities(const GraphCall& call, const Params& p);
  GraphAnswer ImportIdentityList(const GraphCall& call, const Params& p);
  GraphAnswer ListIdentities(const GraphCall& call, const Params& p);
  GraphAnswer GetIdentity(const GraphCall& call, const Params& p);
  GraphAnswer DeleteIdentity(const GraphCall& call, const Params& p);
  GraphAnswer ListManaged(const GraphCall& call, const Params& p);
  GraphAnswer GetManaged(const GraphCall& call, const Params& p);
  GraphAnswer DeleteManaged(const GraphCall& call, const Params& p);
  GraphAnswer AssignUser(const GraphCall& call, const Params& p);
  GraphAnswer UnassignUser(const GraphCall& call, const Params& p);
  GraphAnswer UpdateProperties(const GraphCall& call, const Params& p);
  GraphAnswer Sync(const GraphCall& call, const Params& p);
  GraphAnswer GetSettings(const GraphCall& call, const Params& p);
  GraphAnswer ListDeploymentProfiles(const GraphCall& call, const Params& p);
  GraphAnswer ListDevices(const GraphCall& call, const Params& p);
  GraphAnswer GetDevice(const GraphCall& call, const Params& p);
  GraphAnswer ListGroups(const GraphCall& call, const Params& p);
  // App registrations, service principals, consent, new groups, deployment profiles
  // (graph_routes_apps.cc).
  GraphAnswer ListApplications(const GraphCall& call, const Params& p);
  GraphAnswer CreateApplication(const GraphCall& call, const Params& p);
  GraphAnswer GetApplication(const GraphCall& call, const Params& p);
  GraphAnswer PatchApplication(const GraphCall& call, const Params& p);
  GraphAnswer AddApplicationPassword(const GraphCall& call, const Params& p);
  GraphAnswer ListServicePrincipals(const GraphCall& call, const Params& p);
  GraphAnswer CreateServicePrincipal(const GraphCall& call, const Params& p);
  GraphAnswer ListAppRoleAssignments(const GraphCall& call, const Params& p);
  GraphAnswer ListAppRoleAssignedTo(const GraphCall& call, const Params& p);
  // The last parameter is the signed-in user's id ("" for app-only tokens).
  GraphAnswer AddAppRoleAssignedTo(const GraphCall& call, const Params& p);
  GraphAnswer MyMemberOf(const GraphCall& call, const Params& p);
  GraphAnswer CreateGroup(const GraphCall& call, const Params& p);
  GraphAnswer CreateDeploymentProfile(const GraphCall& call, const Params& p);
  GraphAnswer ListProfileAssignments(const GraphCall& call, const Params& p);
  GraphAnswer AssignDeploymentProfile(const GraphCall& call, const Params& p);
  GraphAnswer GetGroup(const GraphCall& call, const Params& p);
  GraphAnswer PatchGroup(const GraphCall& call, const Params& p);
  GraphAnswer ListMembers(const GraphCall& call, const Params& p);
  GraphAnswer AddMemberRef(const GraphCall& call, const Params& p);
  GraphAnswer RemoveMemberRef(const GraphCall& call, const Params& p);
  GraphAnswer MemberObjects(const GraphCall& call, const Params& p);

  // Error answers: Graph's shape, or Intune's nested one for deviceManagement routes.
  GraphAnswer GraphError(const GraphCall& call, int status, const std::string& code,
                         const std::string& message, int retry_after = -1);
  GraphAnswer IntuneError(const GraphCall& call, int status, const std::string& code,
                          const std::string& message, int retry_after = -1);
  GraphAnswer Json(const GraphCall& call, int status, nlohmann::json body);
  // Graph's 404 for a directory object `id` that does not exist.
  GraphAnswer ResourceNotFound(const GraphCall& call, const std::string& id);
  GraphAnswer NoContent(const GraphCall& call);
  // A filtered, paged collection: `items` sorted by "id"; `intune` picks the error shape.
  GraphAnswer Collection(const GraphCall& call, std::vector<nlohmann::json> items,
                         const std::string& context, bool intune, bool allow_contains,
                         bool allow_eq, const std::vector<std::string>& filter_fields);

  static const std::vector<Route>& Routes();

  Identity& identity_;
  GraphModel& model_;
  const Clock& clock_;
};

}  // namespace apm::sim
