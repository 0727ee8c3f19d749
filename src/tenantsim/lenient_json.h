// JSON as the Autopilot PowerShell scripts write it: Set-AutopilotDevice sends object keys
// without quotes (`{ displayName: "PC01" }`), which the real service accepts and a strict parser
// rejects. Facts: docs/graph-facts.md#actions.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

namespace apm::sim {

// Parses `text`, also accepting unquoted object keys and single-quoted strings. A discarded
// value (is_discarded()) when it is not JSON even so.
nlohmann::json ParseLenientJson(std::string_view text);

}  // namespace apm::sim
