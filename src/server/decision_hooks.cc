#include "server/decision_hooks.h"

#include <time.h>

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/base64.h"
#include "core/guid.h"
#include "core/text.h"
#include "server/json_text.h"

namespace apm {
namespace {

using json = nlohmann::ordered_json;

std::string UsDateTime(int64_t ms) {
  time_t seconds = time_t(ms / 1000);
  tm t{};
  gmtime_r(&seconds, &t);
  char text[64];  // room for any int the format could print
  std::snprintf(text, sizeof text, "%02d/%02d/%04d %02d:%02d:%02d", t.tm_mon + 1, t.tm_mday,
                t.tm_year + 1900, t.tm_hour, t.tm_min, t.tm_sec);
  return text;
}

bool IsBlank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

std::string_view TrimBy(std::string_view s, bool (*drop)(char)) {
  while (!s.empty() && drop(s.front())) s.remove_prefix(1);
  while (!s.empty() && drop(s.back())) s.remove_suffix(1);
  return s;
}

const std::string& KeyOf(const Config& c, DecisionHook hook) {
  switch (hook) {
    case DecisionHook::kValidate:
      return c.ValidationFunctionKey;
    case DecisionHook::kGroupTag:
      return c.GroupTagFunctionKey;
    case DecisionHook::kAutoApproval:
      break;
  }
  return c.AutoApprovalFunctionKey;
}

}  // namespace

std::string_view DecisionHookName(DecisionHook hook) {
  switch (hook) {
    case DecisionHook::kValidate:
      return "validate";
    case DecisionHook::kGroupTag:
      return "grouptag";
    case DecisionHook::kAutoApproval:
      break;
  }
  return "autoapproval";
}

std::string HookBody(const HookDevice& d) {
  json body;
  body["Id"] = d.id;
  body["SerialNumber"] = d.serial_number;
  body["HardwareHash"] = d.hardware_hash;
  body["Manufacturer"] = d.manufacturer;
  body["Model"] = d.model;
  body["GroupTag"] = d.group_tag ? json(*d.group_tag) : json(nullptr);
  body["Comment"] = nullptr;
  body["Action"] = d.action;
  body["RequestTime"] = UsDateTime(d.request_time_ms);
  return JsonText(body);
}

std::string HookRequestGuid(const std::string& request_id) {
  if (IsGuid(request_id)) return request_id;
  Result<std::string> bytes = Base64UrlDecodeNoPad(request_id);
  std::string b = bytes.ok() ? *bytes : request_id;
  b.resize(16, '\0');
  b[6] = char((b[6] & 0x0f) | 0x80);  // version 8: custom
  b[8] = char((b[8] & 0x3f) | 0x80);  // RFC 9562 variant
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += kHex[(static_cast<unsigned char>(b[i]) >> 4) & 0xf];
    out += kHex[static_cast<unsigned char>(b[i]) & 0xf];
  }
  return out;
}

std::string HookAnswerText(std::string_view body) {
  std::string_view s = TrimBy(body, IsBlank);
  s = TrimBy(s, [](char c) { return c == '"'; });
  return std::string(TrimBy(s, IsBlank));
}

DecisionHooks::DecisionHooks(const Config& config, OutboundHttp& http)
    : config_(config), http_(http) {}

bool DecisionHooks::enabled(DecisionHook hook) const {
  switch (hook) {
    case DecisionHook::kValidate:
      return config_.UseValidationFunction;
    case DecisionHook::kGroupTag:
      return config_.UseGroupTagFunction;
    case DecisionHook::kAutoApproval:
      break;
  }
  return config_.UseAutoApprovalFunction;
}

HookAnswer DecisionHooks::Call(DecisionHook hook, const HookDevice& device,
                               std::chrono::steady_clock::time_point deadline) const {
  using namespace std::chrono;
  HookAnswer answer;
  auto left = duration_cast<milliseconds>(deadline - steady_clock::now());
  if (left < milliseconds(100)) {
    answer.text = "not called: the submission's time for functions ran out";
    return answer;
  }
  // Counted from here to the end of the call.
  struct InFlight {
    std::atomic<int>& n;
    ~InFlight() { --n; }
  } counted{in_flight_};
  if (++in_flight_ > kMaxCallsInFlight) {
    answer.text = "not called: " + std::to_string(kMaxCallsInFlight) + " calls already wait";
    return answer;
  }
  OutboundRequest request;
  request.method = "POST";
  std::string base = config_.AzureFunctionsUrl;
  if (!base.ends_with('/')) base += '/';
  request.url = base + std::string(DecisionHookName(hook));
  request.headers = {{"Accept", "application/json"},
                     {"Content-Type", "application/json; charset=utf-8"}};
  if (const std::string& key = KeyOf(config_, hook); !key.empty()) {
    request.headers.emplace_back("x-functions-key", key);
  }
  request.body = HookBody(device);
  request.timeout = std::min<milliseconds>(seconds(config_.FunctionTimeoutSeconds), left);
  // Asking again is harmless (the original's functions are queries), so connections are reused.
  request.idempotent = true;
  Result<OutboundResponse> response = http_.Send(request);
  if (!response.ok()) {
    answer.text = response.status().code() == StatusCode::kDeadlineExceeded
                      ? "no answer within " + std::to_string(request.timeout.count()) + " ms"
                      : "no answer: " + response.status().message();
    return answer;
  }
  answer.status = response->status;
  if (response->status < 200 || response->status > 299) {
    answer.text = "answered HTTP " + std::to_string(response->status);
    return answer;
  }
  answer.text = HookAnswerText(response->body);
  const bool yes = hook == DecisionHook::kGroupTag || EqualsIgnoreCase(answer.text, "true");
  answer.kind = yes ? HookAnswer::Kind::kYes : HookAnswer::Kind::kNo;
  return answer;
}

Status ValidateDecisionHookSettings(const Config& c) {
  auto bad = [](const std::string& key, const std::string& why) {
    return Status::InvalidArgument(key + " " + why);
  };
  if (c.FunctionTimeoutSeconds < 1 || c.FunctionTimeoutSeconds > kHookBudgetPerSubmission.count()) {
    return bad("FunctionTimeoutSeconds",
               "must be between 1 and " + std::to_string(kHookBudgetPerSubmission.count()));
  }
  if (c.FunctionFailurePolicy != "refuse" && c.FunctionFailurePolicy != "wait") {
    return bad("FunctionFailurePolicy", "must be refuse or wait");
  }
  if (!c.UseValidationFunction && !c.UseGroupTagFunction && !c.UseAutoApprovalFunction) {
    return Status::Ok();
  }
  const std::string& url = c.AzureFunctionsUrl;
  if (url.empty()) {
    return bad("AzureFunctionsUrl", "is required when a Use…Function setting is true");
  }
  // The function keys travel with every call: plain http only on this machine.
  if (!url.starts_with("https://") && !IsLoopbackHttpUrl(url)) {
    return bad("AzureFunctionsUrl",
               "must start with https:// (plain http only for functions on this machine)");
  }
  if (url.find_first_of("?#") != std::string::npos) {
    return bad("AzureFunctionsUrl",
               "must not carry a query or fragment (the function name is appended; put keys in "
               "the …FunctionKey settings)");
  }
  return Status::Ok();
}

}  // namespace apm
