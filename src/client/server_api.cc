#include "client/server_api.h"

#include <nlohmann/json.hpp>

namespace apm::client {
namespace {

using json = nlohmann::json;

std::string StringField(const json& object, const char* name) {
  auto it = object.find(name);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

// The server's error object, or a summary of whatever came instead.
SubmitRefusal RefusalOf(const HttpResponse& answer) {
  SubmitRefusal refusal{answer.status, "", ""};
  json body = json::parse(answer.body, nullptr, false);
  if (body.is_object() && body.contains("error") && body["error"].is_object()) {
    refusal.code = StringField(body["error"], "code");
    refusal.message = StringField(body["error"], "message");
  }
  if (refusal.message.empty()) refusal.message = "HTTP " + std::to_string(answer.status);
  return refusal;
}

Status Unexpected(const std::string& what, const HttpResponse& answer) {
  std::string body = answer.body.substr(0, 200);
  return Status::Internal(what + ": unexpected answer HTTP " + std::to_string(answer.status) +
                          (body.empty() ? "" : " (" + body + ")"));
}

}  // namespace

Result<RequestStatus> ParseRequestStatus(const std::string& json_text) {
  json body = json::parse(json_text, nullptr, false);
  if (!body.is_object()) return Status::Internal("the server's answer is not a JSON object");
  RequestStatus status;
  status.id = StringField(body, "id");
  if (status.id.empty()) return Status::Internal("the server's answer has no request id");
  std::string state = StringField(body, "state");
  std::optional<RequestState> parsed = ParseRequestState(state);
  if (!parsed) return Status::Internal("the server sent an unknown state \"" + state + "\"");
  status.state = *parsed;
  status.step = StringField(body, "step");
  auto terminal = body.find("terminal");
  status.terminal = terminal != body.end() && terminal->is_boolean() ? terminal->get<bool>()
                                                                     : IsTerminal(status.state);
  status.self_service = StringField(body, "mode") == "self_service";
  status.approval_url = StringField(body, "approvalUrl");
  status.verification = StringField(body, "verification");
  if (auto device = body.find("device"); device != body.end() && device->is_object()) {
    status.serial_number = StringField(*device, "serialNumber");
    status.manufacturer = StringField(*device, "manufacturer");
    status.model = StringField(*device, "model");
  }
  if (auto error = body.find("error"); error != body.end() && error->is_object()) {
    RequestError e;
    if (auto code = error->find("code"); code != error->end() && code->is_number_integer()) {
      e.code = code->get<int64_t>();
    }
    e.name = StringField(*error, "name");
    e.message = StringField(*error, "message");
    status.error = e;
  }
  if (auto qr = body.find("qr"); qr != body.end() && qr->is_object()) {
    auto rows = qr->find("rows");
    if (rows == qr->end() || !rows->is_array()) {
      return Status::Internal("the server's QR code has no rows");
    }
    for (const json& row : *rows) {
      if (!row.is_string() || row.get<std::string>().size() != rows->size()) {
        return Status::Internal("the server's QR code is not square");
      }
      status.qr_rows.push_back(row.get<std::string>());
    }
  }
  return status;
}

HttpRequest ServerApi::NewRequest(std::string method, std::string path) const {
  HttpRequest request;
  request.method = std::move(method);
  request.url = base_url_ + path;
  request.headers = {{"Accept", "application/json"},
                     {"User-Agent", "AutopilotManager.Client/" + client_version_}};
  return request;
}

Result<SubmitOutcome> ServerApi::Submit(const DeviceFacts& facts) {
  HttpRequest request = NewRequest("POST", "/api/v1/requests");
  request.headers.emplace_back("Content-Type", "application/json");
  json body = {{"serialNumber", facts.serial_number},
               {"manufacturer", facts.manufacturer},
               {"model", facts.model},
               {"hardwareHash", facts.hardware_hash},
               {"clientVersion", client_version_}};
  if (!action_.empty()) body["action"] = action_;
  request.body = body.dump();
  request.timeout = std::chrono::seconds(30);
  Result<HttpResponse> answer = http_.Send(request);
  if (!answer.ok()) return answer.status();
  SubmitOutcome outcome;
  if (answer->status == 200 || answer->status == 201) {
    Result<RequestStatus> status = ParseRequestStatus(answer->body);
    if (!status.ok()) return status.status();
    outcome.request = *status;
    return outcome;
  }
  if (answer->status >= 500 || answer->status == 429) {
    SubmitRefusal refusal = RefusalOf(*answer);
    return Status::Unavailable("the server is busy or unavailable (" + refusal.message + ")");
  }
  if (answer->status >= 400) {
    outcome.refusal = RefusalOf(*answer);
    return outcome;
  }
  return Unexpected("submitting the device", *answer);
}

Result<int64_t> ServerApi::UploadDiagnostics(const std::string& id, const std::string& file_name,
                                             const std::string& zip) {
  // The server takes only names of letters, digits, '-', '_' and '.': nothing to escape.
  HttpRequest request =
      NewRequest("POST", "/api/v1/requests/" + id + "/diagnostics?name=" + file_name);
  request.headers.emplace_back("Content-Type", "application/zip");
  request.body = zip;
  request.timeout = std::chrono::seconds(120);  // 8 MiB over a slow link
  Result<HttpResponse> answer = http_.Send(request);
  if (!answer.ok()) return answer.status();
  if (answer->status == 201) {
    json body = json::parse(answer->body, nullptr, false);
    if (body.is_object() && body.contains("diagnostics") && body["diagnostics"].is_object()) {
      const json& number = body["diagnostics"]["number"];
      if (number.is_number_integer()) return number.get<int64_t>();
    }
    return Unexpected("sending the diagnostics", *answer);
  }
  const SubmitRefusal refusal = RefusalOf(*answer);
  if (answer->status >= 500 || answer->status == 429) {
    return Status::Unavailable("the server is busy or unavailable (" + refusal.message + ")");
  }
  return Status::FailedPrecondition(refusal.message + ", HTTP " + std::to_string(answer->status));
}

Result<PollOutcome> ServerApi::Poll(const std::string& id, const std::string& etag,
                                    std::chrono::seconds wait) {
  std::string path = "/api/v1/requests/" + id;
  if (wait.count() > 0) path += "?wait=" + std::to_string(wait.count());
  HttpRequest request = NewRequest("GET", path);
  if (!etag.empty()) request.headers.emplace_back("If-None-Match", etag);
  request.timeout = wait + std::chrono::seconds(20);
  Result<HttpResponse> answer = http_.Send(request);
  if (!answer.ok()) return answer.status();
  PollOutcome outcome;
  outcome.etag = answer->Header("ETag");
  switch (answer->status) {
    case 304:
      outcome.not_modified = true;
      outcome.etag = etag;
      return outcome;
    case 404:
      outcome.not_found = true;
      return outcome;
    case 200: {
      Result<RequestStatus> status = ParseRequestStatus(answer->body);
      if (!status.ok()) return status.status();
      outcome.status = *status;
      return outcome;
    }
    default:
      if (answer->status >= 500 || answer->status == 429) {
        return Status::Unavailable("the server answered HTTP " + std::to_string(answer->status));
      }
      return Unexpected("following the request", *answer);
  }
}

}  // namespace apm::client
