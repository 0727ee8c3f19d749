#include "server/graph/graph_client.h"

#include <algorithm>
#include <charconv>
#include <random>
#include <thread>

#include "core/text.h"
#include "server/graph/graph_error.h"
#include "server/graph/graph_resources.h"
#include "server/http/form.h"
#include "server/json_text.h"
#include "server/logging.h"

namespace apm {
namespace {

using json = nlohmann::json;

constexpr size_t kMaxBatch = 20;  // Graph's limit per $batch and per members@odata.bind

bool IsWrite(const std::string& method) {
  return method != "GET" && method != "HEAD";
}

std::string HeaderValue(const std::map<std::string, std::string>& headers, std::string name) {
  for (const auto& [k, v] : headers) {
    if (EqualsIgnoreCase(k, name)) return v;
  }
  return "";
}

// Graph's error in an answer (no answer at all reads as http_status 0).
GraphError ErrorOf(const GraphClient::Answer& answer) {
  if (answer.status == 0) return GraphError{};
  std::string retry_after = HeaderValue(answer.headers, "retry-after");
  return ParseGraphError(
      answer.status, JsonText(answer.body),
      retry_after.empty() ? std::nullopt : std::optional<std::string_view>(retry_after));
}

}  // namespace

Status GraphClient::Answer::ToStatus(std::string_view what) const {
  if (status == 0) return Status(transport.code(), std::string(what) + ": " + transport.message());
  Status s = apm::ToStatus(ErrorOf(*this));
  return Status(s.code(), std::string(what) + ": " + s.message());
}

GraphClient::GraphClient(Options options, OutboundHttp& http, TokenSource& tokens,
                         const Clock& clock, Sleep sleep, Uniform uniform)
    : options_(std::move(options)),
      http_(http),
      tokens_(tokens),
      clock_(clock),
      sleep_(sleep ? std::move(sleep) : Sleep([this](std::chrono::milliseconds d) {
        std::unique_lock lock(stop_mu_);
        return !stop_cv_.wait_for(lock, d, [this] { return stopping_; });
      })),
      retry_(options_.retry, uniform ? std::move(uniform) : Uniform([](int64_t n) -> int64_t {
               thread_local std::mt19937_64 rng{std::random_device{}()};
               return std::uniform_int_distribution<int64_t>(0, std::max<int64_t>(n, 0))(rng);
             })),
      intune_budget_(clock, options_.intune_limits),
      directory_budget_(clock, options_.directory_limits) {
  while (!options_.endpoint.empty() && options_.endpoint.back() == '/')
    options_.endpoint.pop_back();
}

RequestBudget& GraphClient::BudgetFor(const std::string& url) {
  return url.find("/deviceManagement/") != std::string::npos ? intune_budget_ : directory_budget_;
}

void GraphClient::Stop() {
  std::lock_guard lock(stop_mu_);
  stopping_ = true;
  stop_cv_.notify_all();
}

bool GraphClient::Acquire(const std::string& url, bool write, int64_t* taken_at) {
  RequestBudget& budget = BudgetFor(url);
  while (std::optional<std::chrono::milliseconds> wait = budget.TryAcquire(write, taken_at)) {
    if (!WaitForBudget(*wait, write)) return false;
  }
  return true;
}

bool GraphClient::WaitForBudget(std::chrono::milliseconds wait, bool write) {
  if (write) ++writes_waiting_;
  bool waited = sleep_(wait);
  if (write) --writes_waiting_;
  return waited;
}

namespace {

GraphClient::Answer Stopping() {
  GraphClient::Answer a;
  a.transport = Status::Unavailable("apm-server is shutting down");
  return a;
}

}  // namespace

// Our budget keeps us under Graph's limits, so a 429 means someone else spends this app's
// allowance too (another tool with the same app registration, another engine): say so.
void GraphClient::NoteThrottled(const Call& call, const Answer& answer) {
  ++throttled_;
  RequestBudget::Usage used = BudgetFor(call.url).InWindow();
  LogWarn("Graph throttled a call the budget allowed",
          {{"method", call.method},
           {"path", call.url.substr(0, call.url.find('?'))},
           {"retry_after", HeaderValue(answer.headers, "retry-after")},
           {"writes_in_window", used.writes},
           {"requests_in_window", used.requests}});
}

std::optional<std::chrono::milliseconds> GraphClient::RetryDelay(int attempt,
                                                                 const Answer& answer) const {
  return retry_.NextDelay(attempt, ErrorOf(answer));
}

GraphClient::Answer GraphClient::SendOnce(const Call& call, SendReport* report) {
  Answer answer;
  *report = SendReport{};
  Result<std::string> token = tokens_.AccessToken();
  if (!token.ok()) {
    answer.transport = token.status();
    *report = {.failure = TransportFailure::kNotSent, .sends = 0};
    return answer;
  }
  OutboundRequest request;
  request.method = call.method;
  request.url = call.url.starts_with("https://") || call.url.starts_with("http://")
                    ? call.url
                    : options_.endpoint + call.url;
  request.headers = {{"Authorization", "Bearer " + *token}, {"Accept", "application/json"}};
  if (call.body) {
    request.headers.emplace_back("Content-Type", "application/json");
    request.body = JsonText(*call.body);
  }
  request.timeout = options_.timeout;
  request.idempotent = call.idempotent;
  request.send_once = true;  // Graph counts every send against the budget
  request.may_send = may_send_;
  Result<OutboundResponse> response = http_.Send(request, report);
  http_requests_ += report->sends;
  if (!response.ok()) {
    answer.transport = response.status();
    return answer;
  }
  answer.status = response->status;
  answer.headers = std::move(response->headers);
  if (!response->body.empty()) answer.body = json::parse(response->body, nullptr, false);
  if (answer.status == 401) tokens_.Invalidate(*token);
  return answer;
}

GraphClient::Answer GraphClient::Send(const Call& call) {
  return Send(call, std::nullopt);
}

GraphClient::Answer GraphClient::Send(const Call& call, std::optional<int64_t> slot_taken_at) {
  Answer answer;
  bool token_renewed = false;
  bool write = IsWrite(call.method);
  for (int attempt = 1;; ++attempt) {
    int64_t taken_at = slot_taken_at.value_or(0);
    if ((attempt > 1 || !slot_taken_at) && !Acquire(call.url, write, &taken_at)) {
      return Stopping();
    }
    SendReport sent;
    answer = SendOnce(call, &sent);
    operations_ += sent.sends;
    BudgetFor(call.url).Completed(write, taken_at, sent.sends);
    if (answer.status == 429 && call.retry_429) NoteThrottled(call, answer);
    bool not_sent = !answer.transport.ok() && sent.failure == TransportFailure::kNotSent;
    if (answer.status == 401 && !token_renewed) {
      token_renewed = true;  // a token revoked or expired early: one fresh try
      continue;
    }
    bool may_repeat = call.idempotent || not_sent || (answer.status == 429 && call.retry_429);
    if (answer.status == 429 && !call.retry_429) return answer;
    if (!may_repeat) return answer;
    std::optional<std::chrono::milliseconds> delay = RetryDelay(attempt, answer);
    if (!delay || !sleep_(*delay)) return answer;
  }
}

std::vector<GraphClient::Answer> GraphClient::SendBatch(const std::vector<const Call*>& calls,
                                                        const std::vector<int64_t>& taken_at) {
  std::vector<Answer> answers(calls.size());
  // All sub-requests of one envelope share its version; the envelope goes to that version.
  std::string version = calls.front()->url.substr(0, calls.front()->url.find('/', 1));
  json requests = json::array();
  for (size_t i = 0; i < calls.size(); ++i) {
    json r = {{"id", std::to_string(i)},
              {"method", calls[i]->method},
              {"url", calls[i]->url.substr(version.size())}};
    if (calls[i]->body) {
      r["body"] = *calls[i]->body;
      r["headers"] = {{"Content-Type", "application/json"}};
    }
    requests.push_back(std::move(r));
  }
  SendReport sent;
  bool idempotent =
      std::all_of(calls.begin(), calls.end(), [](const Call* c) { return c->idempotent; });
  Answer envelope = SendOnce(Call{.method = "POST",
                                  .url = version + "/$batch",
                                  .body = json{{"requests", std::move(requests)}},
                                  .idempotent = idempotent,
                                  .retry_429 = true},
                             &sent);
  operations_ += int64_t(calls.size()) * sent.sends;
  for (size_t i = 0; i < calls.size(); ++i) {  // Graph counts each member of each envelope
    BudgetFor(calls[i]->url).Completed(IsWrite(calls[i]->method), taken_at[i], sent.sends);
  }
  if (!envelope.ok() || !envelope.body.is_object() || !envelope.body.contains("responses") ||
      !envelope.body["responses"].is_array()) {
    for (Answer& a : answers) {
      a = envelope;
      if (a.ok()) a.status = 0, a.transport = Status::Unavailable("malformed $batch answer");
    }
    return answers;
  }
  for (const json& r : envelope.body["responses"]) {
    std::string id = StringMember(r, "id");
    size_t index = 0;
    auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), index);
    if (ec != std::errc() || end != id.data() + id.size() || index >= calls.size()) continue;
    Answer& a = answers[index];
    a.status = r.contains("status") && r["status"].is_number_integer() ? r["status"].get<int>() : 0;
    if (r.contains("body")) a.body = r["body"];
    if (r.contains("headers") && r["headers"].is_object()) {
      for (const auto& [k, v] : r["headers"].items()) {
        if (v.is_string()) a.headers[k] = v.get<std::string>();
      }
    }
  }
  for (Answer& a : answers) {
    if (a.status == 0 && a.transport.ok()) a.transport = Status::Unavailable("missing in $batch");
  }
  return answers;
}

std::vector<GraphClient::Answer> GraphClient::SendAll(const std::vector<Call>& calls) {
  std::vector<Answer> answers(calls.size());
  if (calls.size() == 1) {
    answers[0] = Send(calls[0]);
    return answers;
  }
  std::vector<size_t> todo(calls.size());
  for (size_t i = 0; i < calls.size(); ++i) todo[i] = i;
  for (int attempt = 1; !todo.empty(); ++attempt) {
    std::vector<size_t> again;
    std::chrono::milliseconds wait{0};
    size_t pos = 0;
    while (pos < todo.size()) {
      // Slots are taken just before the envelope leaves, never long before, so our window
      // and Graph's count the same moments. A full budget sends what fits and waits for the
      // rest.
      std::vector<const Call*> chunk;
      std::vector<size_t> chunk_index;
      std::vector<int64_t> taken_at;
      while (pos < todo.size() && chunk.size() < kMaxBatch) {
        const Call& call = calls[todo[pos]];
        int64_t at = 0;
        std::optional<std::chrono::milliseconds> full =
            BudgetFor(call.url).TryAcquire(IsWrite(call.method), &at);
        if (full) {
          if (!chunk.empty()) break;
          if (!WaitForBudget(*full, IsWrite(call.method))) {
            for (size_t k = pos; k < todo.size(); ++k) answers[todo[k]] = Stopping();
            return answers;
          }
          continue;
        }
        chunk.push_back(&call);
        chunk_index.push_back(todo[pos++]);
        taken_at.push_back(at);
      }
      std::vector<Answer> got = chunk.size() == 1
                                    ? std::vector<Answer>{Send(*chunk[0], taken_at[0])}
                                    : SendBatch(chunk, taken_at);
      for (size_t k = 0; k < got.size(); ++k) {
        size_t index = chunk_index[k];
        const Call& call = calls[index];
        answers[index] = std::move(got[k]);
        const Answer& a = answers[index];
        if (a.ok() || chunk.size() == 1) continue;
        if (a.status == 429 && call.retry_429) NoteThrottled(call, a);
        bool may_repeat = call.idempotent || (a.status == 429 && call.retry_429);
        if (!may_repeat) continue;
        if (std::optional<std::chrono::milliseconds> d = RetryDelay(attempt, a)) {
          wait = std::max(wait, *d);
          again.push_back(index);
        }
      }
    }
    if (!again.empty() && !sleep_(wait)) break;  // stopping: the last answers stand
    todo = std::move(again);
  }
  return answers;
}

Result<std::vector<ImportRecord>> GraphClient::Import(std::span<const ImportItem> items) {
  std::vector<ImportRecord> records;
  if (items.empty()) return records;
  const std::string base = "/beta/deviceManagement/importedWindowsAutopilotDeviceIdentities";
  if (items.size() == 1) {
    Answer a = Send({.method = "POST",
                     .url = base,
                     .body = ImportItemJson(items[0]),
                     .idempotent = false,
                     .retry_429 = true});
    if (!a.ok()) return a.ToStatus("importing " + items[0].serial_number);
    records.push_back(ImportRecordFromJson(a.body));
    return records;
  }
  json list = json::array();
  for (const ImportItem& item : items) list.push_back(ImportItemJson(item));
  Answer a = Send({.method = "POST",
                   .url = base + "/import",
                   .body = json{{"importedWindowsAutopilotDeviceIdentities", std::move(list)}},
                   .idempotent = false,
                   .retry_429 = true});
  if (!a.ok()) return a.ToStatus("importing " + std::to_string(items.size()) + " devices");
  if (!a.body.contains("value") || !a.body["value"].is_array()) {
    return Status::Unavailable("the import answer has no value list");
  }
  for (const json& j : a.body["value"]) records.push_back(ImportRecordFromJson(j));
  return records;
}

Result<std::vector<json>> GraphClient::ListPages(std::string url, const std::string& what) {
  std::vector<json> items;
  for (int page = 0; page < 1000 && !url.empty(); ++page) {
    Answer a = Send(
        {.method = "GET", .url = url, .body = std::nullopt, .idempotent = true, .retry_429 = true});
    if (!a.ok()) return a.ToStatus(what);
    if (a.body.contains("value") && a.body["value"].is_array()) {
      for (json& j : a.body["value"]) items.push_back(std::move(j));
    }
    url = StringMember(a.body, "@odata.nextLink");
    // The token goes only where Graph is: a next link elsewhere is not followed.
    if (!url.empty() && !url.starts_with(options_.endpoint + "/")) {
      return Status::Unavailable("Graph returned a next link outside " + options_.endpoint);
    }
  }
  return items;
}

namespace {

Result<std::vector<ImportRecord>> ToImportRecords(Result<std::vector<json>> items) {
  if (!items.ok()) return items.status();
  std::vector<ImportRecord> records;
  for (const json& j : *items) records.push_back(ImportRecordFromJson(j));
  return records;
}

}  // namespace

Result<std::vector<ImportRecord>> GraphClient::FindImports(const std::string& serial) {
  Result<std::vector<ImportRecord>> listed =
      ToImportRecords(ListPages("/beta/deviceManagement/importedWindowsAutopilotDeviceIdentities?" +
                                    ContainsSerialQuery(serial),
                                "looking for import records of " + serial));
  if (!listed.ok()) return listed.status();
  std::vector<ImportRecord> found;
  for (ImportRecord& r : *listed) {
    if (SameSerial(r.serial_number, serial)) found.push_back(std::move(r));
  }
  return found;
}

Result<std::vector<ImportRecord>> GraphClient::ListImports() {
  return ToImportRecords(ListPages(
      "/beta/deviceManagement/importedWindowsAutopilotDeviceIdentities", "listing import records"));
}

std::vector<Result<std::optional<ImportRecord>>> GraphClient::GetImports(
    std::span<const std::string> ids) {
  return GetEach<ImportRecord>("/beta/deviceManagement/importedWindowsAutopilotDeviceIdentities/",
                               ids, "", &ImportRecordFromJson, "reading an import record");
}

std::vector<Status> GraphClient::DeleteImports(std::span<const std::string> ids) {
  std::vector<Call> calls;
  for (const std::string& id : ids) {
    // Repeating a delete is safe: a record already gone answers 404, which counts as done.
    calls.push_back({.method = "DELETE",
                     .url = "/beta/deviceManagement/importedWindowsAutopilotDeviceIdentities/" + id,
                     .body = std::nullopt,
                     .idempotent = true,
                     .retry_429 = true});
  }
  std::vector<Status> out;
  for (const Answer& a : SendAll(calls)) {
    out.push_back(a.ok() || a.status == 404 ? Status() : a.ToStatus("deleting an import record"));
  }
  return out;
}

bool GraphClient::HasSpareWrites() {
  // Room for one more $batch of background writes, with a fifth of the window kept free.
  const int limit = options_.intune_limits.writes_per_window;
  return writes_waiting_ == 0 &&
         intune_budget_.InWindow().writes + int(kMaxBatch) <= limit - limit / 5;
}

std::vector<Result<std::optional<AutopilotDevice>>> GraphClient::GetAutopilotDevices(
    std::span<const std::string> ids) {
  return GetEach<AutopilotDevice>("/beta/deviceManagement/windowsAutopilotDeviceIdentities/", ids,
                                  "", &AutopilotDeviceFromJson, "reading an Autopilot device");
}

std::vector<Result<std::optional<EntraDevice>>> GraphClient::FindEntraDevices(
    std::span<const std::string> device_ids) {
  std::vector<Call> calls;
  for (const std::string& id : device_ids) {
    calls.push_back({.method = "GET",
                     .url = "/v1.0/devices?$filter=" +
                            FormEncode("deviceId eq " + ODataQuoted(id)) + "&$select=id,deviceId",
                     .body = std::nullopt,
                     .idempotent = true,
                     .retry_429 = true});
  }
  std::vector<Result<std::optional<EntraDevice>>> out;
  for (const Answer& a : SendAll(calls)) {
    if (!a.ok()) {
      out.emplace_back(a.ToStatus("looking for the Entra device"));
      continue;
    }
    std::optional<EntraDevice> device;
    if (a.body.contains("value") && a.body["value"].is_array() && !a.body["value"].empty()) {
      const json& d = a.body["value"][0];
      device = EntraDevice{StringMember(d, "id"), StringMember(d, "deviceId")};
    }
    out.emplace_back(device);
  }
  return out;
}

std::vector<Status> GraphClient::AddGroupMembers(const std::string& group_id,
                                                 std::span<const std::string> object_ids) {
  std::vector<Status> out(object_ids.size());
  auto ref = [&](const std::string& id) {
    return options_.endpoint + "/v1.0/directoryObjects/" + id;
  };
  for (size_t start = 0; start < object_ids.size(); start += kMaxBatch) {
    size_t end = std::min(object_ids.size(), start + kMaxBatch);
    if (end - start > 1) {
      json bind = json::array();
      for (size_t i = start; i < end; ++i) bind.push_back(ref(object_ids[i]));
      Answer a = Send({.method = "PATCH",
                       .url = "/v1.0/groups/" + group_id,
                       .body = json{{"members@odata.bind", std::move(bind)}},
                       .idempotent = true,
                       .retry_429 = true});
      if (a.ok()) continue;
      // All or nothing: one member already in the group (or gone) fails the whole request, so
      // fall back to one request per device, where "already a member" is recognisable.
      if (a.status != 400 && a.status != 404) {
        for (size_t i = start; i < end; ++i) out[i] = a.ToStatus("adding devices to the group");
        continue;
      }
    }
    for (size_t i = start; i < end; ++i) {
      Answer a = Send({.method = "POST",
                       .url = "/v1.0/groups/" + group_id + "/members/$ref",
                       .body = json{{"@odata.id", ref(object_ids[i])}},
                       .idempotent = true,
                       .retry_429 = true});
      bool already =
          a.status == 400 && a.body.is_object() && a.body.contains("error") &&
          StringMember(a.body["error"], "message").find("already exist") != std::string::npos;
      if (a.status == 404) {
        // Entra replicates new device objects with a delay: "does not exist" right after the
        // lookup found it is worth another try (until the step's deadline).
        out[i] = Status::Unavailable("adding the device to group " + group_id +
                                     ": Graph says the group or the device does not exist (yet)");
        continue;
      }
      out[i] = a.ok() || already ? Status() : a.ToStatus("adding the device to the group");
    }
  }
  return out;
}

Status GraphClient::UpdateDeviceProperties(const std::string& autopilot_id,
                                           const std::string& display_name,
                                           const std::string& user_principal_name,
                                           const std::string& group_tag) {
  const std::string base =
      "/beta/deviceManagement/windowsAutopilotDeviceIdentities/" + autopilot_id;
  json properties = json::object();
  if (!display_name.empty()) properties["displayName"] = display_name;
  if (!group_tag.empty()) properties["groupTag"] = group_tag;
  if (!properties.empty()) {
    Answer a = Send({.method = "POST",
                     .url = base + "/updateDeviceProperties",
                     .body = std::move(properties),
                     .idempotent = true,
                     .retry_429 = true});
    if (!a.ok()) return a.ToStatus("setting the device name and group tag");
  }
  if (!user_principal_name.empty()) {
    Answer a = Send({.method = "POST",
                     .url = base + "/assignUserToDevice",
                     .body = json{{"userPrincipalName", user_principal_name},
                                  {"addressableUserName", user_principal_name}},
                     .idempotent = true,
                     .retry_429 = true});
    if (!a.ok()) return a.ToStatus("assigning the user");
  }
  return Status();
}

Status GraphClient::SyncAutopilot() {
  Answer a = Send({.method = "POST",
                   .url = "/beta/deviceManagement/windowsAutopilotSettings/sync",
                   .body = std::nullopt,
                   .idempotent = true,
                   .retry_429 = false});
  if (a.ok() || a.status == 409) return Status();
  if (a.status == 429) {
    return Status::ResourceExhausted(
        "Autopilot sync refused: the last one was less than 10 minutes ago");
  }
  return a.ToStatus("starting an Autopilot sync");
}

Result<std::vector<std::string>> GraphClient::GetMemberObjects(const std::string& user_id) {
  Answer a = Send({.method = "POST",
                   .url = "/v1.0/users/" + user_id + "/getMemberObjects",
                   .body = json{{"securityEnabledOnly", false}},
                   .idempotent = true,
                   .retry_429 = true});
  if (!a.ok()) return a.ToStatus("reading the user's groups");
  std::vector<std::string> ids;
  if (a.body.contains("value") && a.body["value"].is_array()) {
    for (const json& v : a.body["value"]) {
      if (v.is_string()) ids.push_back(v.get<std::string>());
    }
  }
  return ids;
}

}  // namespace apm
