// The JSON of the Graph resources the workflow reads and writes, in one place: what GraphClient
// sends and how it reads what comes back. Facts: docs/graph-facts.md.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "server/graph/graph_api.h"

namespace apm {

ImportRecord ImportRecordFromJson(const nlohmann::json& j);
AutopilotDevice AutopilotDeviceFromJson(const nlohmann::json& j);
ManagedDevice ManagedDeviceFromJson(const nlohmann::json& j);
// The inverse of the two above, in Graph's field names (what RegistrationCheck stores).
nlohmann::json AutopilotDeviceJson(const AutopilotDevice& d);
nlohmann::json ManagedDeviceJson(const ManagedDevice& m);

// The body of one importedWindowsAutopilotDeviceIdentity to create.
nlohmann::json ImportItemJson(const ImportItem& item);

// The query of a search by serial number: contains() on its first space-separated token, since
// Graph refuses `serialNumber eq` on Autopilot resources (docs/graph-facts.md#repair).
std::string ContainsSerialQuery(const std::string& serial);
// Whether two serial numbers are the same, whole (letter case and outer spaces aside): what a
// contains() search answers must pass this before anything acts on it.
bool SameSerial(const std::string& a, const std::string& b);

// An OData string literal: in quotes, a quote inside doubled.
std::string ODataQuoted(std::string_view value);

}  // namespace apm
