// The client API's JSON answers, shared by its routes (api_handler.cc, api_diagnostics.cc):
// {"error": {"code": …, "message": …, …}} for every refusal (docs/api.md).
#pragma once

#include <string_view>

#include <nlohmann/json.hpp>

#include "server/http/http_types.h"
#include "server/http/responses.h"
#include "server/json_text.h"

namespace apm {

inline StringResponse JsonAnswer(const InboundRequest& req, http::status status,
                                 const nlohmann::json& body) {
  return Respond(req, status, JsonText(body), "application/json");
}

// `extra` adds fields to the error object (such as "field", naming what was wrong).
inline StringResponse ErrorAnswer(const InboundRequest& req, http::status status,
                                  std::string_view code, std::string_view message,
                                  const nlohmann::json& extra = nlohmann::json::object()) {
  nlohmann::json err = {{"code", code}, {"message", message}};
  for (const auto& [k, v] : extra.items()) err[k] = v;
  return JsonAnswer(req, status, nlohmann::json{{"error", err}});
}

}  // namespace apm
