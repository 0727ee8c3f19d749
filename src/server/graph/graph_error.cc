#include "server/graph/graph_error.h"

#include "server/http/outbound_http.h"

#include <nlohmann/json.hpp>

namespace apm {
namespace {

using json = nlohmann::json;

constexpr DdsError kDdsErrors[] = {
    {801, "InvalidZtdRequestBody",
     "The registration request was malformed. Try again; if it "
     "keeps failing, contact your IT department."},
    {802, "InvalidZtdHardwareHash",
     "The device's hardware hash is not valid. Restart the "
     "device and run the tool again."},
    {803, "MissingZtdSerialNumberAndProductKey",
     "The device reported no usable serial number or product key. Contact your IT department."},
    {806, "ZtdDeviceAlreadyAssigned",
     "This device is already registered in your organization's Autopilot. Restart it to "
     "continue setup."},
    {807, "ZtdDeviceIsNotRegistered", "The device is not registered in this organization."},
    {808, "ZtdDeviceAssignedToOtherTenant",
     "This device is registered to another organization. Its previous owner or seller must "
     "release it before it can be registered here."},
    {809, "ZtdProfileIsNotRegistered", "The Autopilot profile is not registered."},
    {810, "ZtdProfileAssignedToOtherTenant",
     "The Autopilot profile belongs to another "
     "organization."},
    {811, "ZtdDeviceRegisteredByOtherTenant",
     "This device was registered by another organization. Contact your IT department."},
    {812, "ZtdDeviceNotFound", "Autopilot could not find this device."},
    {813, "ZtdDeviceIsNotUnique",
     "Autopilot found more than one device matching this one. Contact your IT department."},
    {814, "ZtdDeviceAlreadyAadRegistered",
     "This device is already registered in Microsoft Entra ID. Contact your IT department."},
};

std::string Excerpt(std::string_view body) {
  std::string s(body.substr(0, 200));
  for (char& c : s) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  return s;
}

}  // namespace

GraphError ParseGraphError(int http_status, std::string_view body,
                           std::optional<std::string_view> retry_after_header) {
  GraphError e;
  e.http_status = http_status;
  if (retry_after_header) e.retry_after_seconds = ParseRetryAfterSeconds(*retry_after_header);
  json j = json::parse(body, nullptr, false);
  const json* err = nullptr;
  if (j.is_object()) {
    auto it = j.find("error");
    if (it != j.end() && it->is_object()) err = &*it;
  }
  if (!err) {
    e.code = http_status ? "HttpError" + std::to_string(http_status) : "NoResponse";
    e.message = Excerpt(body);
    return e;
  }
  // Fields of another type than documented are ignored, never thrown on.
  auto text = [](const json& object, const char* key) {
    auto it = object.find(key);
    return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  e.code = text(*err, "code");
  e.message = text(*err, "message");
  if (auto inner = err->find("innerError"); inner != err->end() && inner->is_object()) {
    e.request_id = text(*inner, "request-id");
  }
  // Intune puts its own error, as JSON text, in Graph's message.
  json nested = json::parse(e.message, nullptr, false);
  if (nested.is_object() && nested.contains("Message")) {
    if (nested["Message"].is_string()) e.message = nested["Message"].get<std::string>();
    const json& ra = nested["RetryAfter"];
    if (!e.retry_after_seconds && ra.is_number_integer() && ra.get<int64_t>() >= 0 &&
        ra.get<int64_t>() < 86'400)
      e.retry_after_seconds = int(ra.get<int64_t>());
    if (!e.retry_after_seconds && ra.is_string())
      e.retry_after_seconds = ParseRetryAfterSeconds(ra.get<std::string>());
  }
  return e;
}

bool IsRetryable(const GraphError& e) {
  switch (e.http_status) {
    case 0:  // no answer: connection refused, reset, timeout
    case 408:
    case 429:
    case 500:
    case 502:
    case 503:
    case 504:
      return true;
    default:
      return false;
  }
}

Status ToStatus(const GraphError& e) {
  std::string text = "Graph " + (e.http_status ? std::to_string(e.http_status) : std::string("-")) +
                     " " + e.code + ": " + e.message;
  if (!e.request_id.empty()) text += " (request-id " + e.request_id + ")";
  if (IsRetryable(e)) return Status::Unavailable(text);
  switch (e.http_status) {
    case 404:
      return Status::NotFound(text);
    case 401:
    case 403:
      return Status::PermissionDenied(text);
    case 409:
      return Status::FailedPrecondition(text);
    default:
      return Status::InvalidArgument(text);
  }
}

const DdsError* FindDdsError(int code) {
  for (const DdsError& d : kDdsErrors) {
    if (d.code == code) return &d;
  }
  return nullptr;
}

std::string DescribeDdsError(int code, std::string_view name) {
  if (const DdsError* d = FindDdsError(code)) return std::string(d->user_message);
  std::string text = "Autopilot could not register this device (error " + std::to_string(code);
  if (!name.empty()) text += " " + std::string(name);
  return text + "). Contact your IT department.";
}

}  // namespace apm
