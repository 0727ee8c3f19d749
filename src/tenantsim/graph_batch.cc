// The simulator's $batch: each sub-request is dispatched like a top-level one.
#include "core/text.h"
#include "server/json_text.h"
#include "tenantsim/graph_query.h"
#include "tenantsim/graph_router.h"
#include "tenantsim/lenient_json.h"

namespace apm::sim {

using json = nlohmann::json;

// ---------------------------------------------------------------------------------------------
// $batch (§6): each sub-request is dispatched like a top-level one, without connection faults.

namespace {

// What is wrong with a $batch body, if anything (Graph's words).
std::optional<std::string> BatchPayloadError(const json& body) {
  if (!body.is_object() || !body.contains("requests") || !body["requests"].is_array()) {
    return std::string("Invalid batch payload format.");
  }
  const json& requests = body["requests"];
  if (requests.empty()) return std::string("Invalid batch payload format: no requests.");
  if (requests.size() > kMaxBatchRequests) {
    return std::string("Number of batch requests exceed the limit of 20.");
  }
  std::set<std::string> seen;
  for (const json& r : requests) {
    if (!r.is_object() || !r.contains("id") || !r["id"].is_string() ||
        r["id"].get<std::string>().empty() || !r.contains("method") || !r["method"].is_string() ||
        !r.contains("url") || !r["url"].is_string()) {
      return std::string(
          "Invalid batch payload format: each request needs an id, a method and a url.");
    }
    std::string id = r["id"];
    if (r.contains("headers") && !r["headers"].is_object()) {
      return std::string("Invalid batch payload format: headers of request " + id +
                         " must be an object.");
    }
    if (r.contains("dependsOn")) {
      if (!r["dependsOn"].is_array())
        return std::string("dependsOn of request " + id + " is not an array.");
      for (const json& d : r["dependsOn"]) {
        // Simulator's rule: a dependency must come earlier in the array.
        if (!d.is_string() || !seen.contains(d.get<std::string>())) {
          return std::string("Request " + id + " depends on an unknown or later request.");
        }
      }
    }
    if (!seen.insert(id).second) return std::string("Request Id '" + id + "' must be unique.");
    if (r.contains("body")) {
      bool has_type = false;
      if (r.contains("headers")) {
        for (auto& [name, value] : r["headers"].items()) {
          has_type = has_type || EqualsIgnoreCase(name, "Content-Type");
        }
      }
      if (!has_type) {
        return std::string("Write request id : " + id +
                           " does not contain Content-Type header or body.");
      }
    }
  }

  return std::nullopt;
}

// One sub-request of a $batch as a call of its own, made by the batch's caller.
GraphCall SubCall(const GraphCall& call, const json& r, const std::string& url, const SimApp& app,
                  const std::string& user_id) {
  GraphCall c;
  c.method = r["method"].get<std::string>();
  for (char& ch : c.method) ch = char(std::toupper(static_cast<unsigned char>(ch)));
  c.version = call.version;
  size_t q = url.find('?');
  c.path = url.substr(0, q);
  if (!c.path.starts_with("/")) c.path = "/" + c.path;
  if (q != std::string::npos) c.query = url.substr(q + 1);
  if (r.contains("headers")) {
    for (auto& [name, value] : r["headers"].items()) {
      if (value.is_string()) c.headers[AsciiLower(name)] = value.get<std::string>();
    }
  }
  if (r.contains("body")) {
    c.body = r["body"].is_string() ? r["body"].get<std::string>() : JsonText(r["body"]);
  }
  c.base_url = call.base_url;
  c.app = app;
  c.user_id = user_id;
  return c;
}

}  // namespace

GraphAnswer GraphRouter::Batch(const GraphCall& call, const SimApp& app,
                               const std::string& user_id) {
  FaultDecision fault = model_.DrawFault(true);
  GraphAnswer answer;
  if (fault.fault == Fault::kDropBeforeEffect) {
    answer.status = 503;
    answer.drop_connection = true;
    answer.fault = "dropped";
    return answer;
  }
  if (fault.fault == Fault::kStatus500 || fault.fault == Fault::kStatus503) {
    bool is500 = fault.fault == Fault::kStatus500;
    answer =
        GraphError(call, is500 ? 500 : 503, is500 ? "InternalServerError" : "ServiceUnavailable",
                   "The service encountered an error (simulated fault).");
    answer.fault = is500 ? "status-500" : "status-503";
    return answer;
  }

  json body = json::parse(call.body, nullptr, false);
  if (std::optional<std::string> wrong = BatchPayloadError(body)) {
    return GraphError(call, 400, "BadRequest", *wrong);
  }
  const json& requests = body["requests"];
  std::map<std::string, int> statuses;
  json responses = json::array();
  for (const json& r : requests) {
    std::string id = r["id"];
    json entry = {{"id", id}};
    bool failed_dependency = false;
    if (r.contains("dependsOn")) {
      for (const json& d : r["dependsOn"]) {
        int s = statuses[d.get<std::string>()];
        failed_dependency = failed_dependency || s < 200 || s > 299;
      }
    }
    GraphAnswer sub;
    std::string url = r["url"];
    if (failed_dependency) {
      sub = GraphError(call, 424, "FailedDependency",
                       "The request was not run because a request it depends on failed.");
    } else if (url.empty() || url.find("://") != std::string::npos) {
      sub = GraphError(call, 400, "BadRequest", "Invalid request URL '" + url + "'.");
    } else {
      sub = Dispatch(SubCall(call, r, url, app, user_id));
    }
    statuses[id] = sub.status;
    entry["status"] = sub.status;
    json headers = json::object();
    for (auto& [name, value] : sub.headers) headers[name] = value;
    if (sub.body) headers["Content-Type"] = "application/json";
    entry["headers"] = std::move(headers);
    if (sub.body) entry["body"] = std::move(*sub.body);
    responses.push_back(std::move(entry));
  }
  answer = Json(call, 200, {{"responses", std::move(responses)}});
  if (fault.fault == Fault::kLostResponse) {
    answer.drop_connection = true;
    answer.fault = "lost-response";
  }
  answer.delay_ms = fault.delay_ms;
  return answer;
}

}  // namespace apm::sim
