// The simulator's reading of Graph requests: percent-decoding, JSON fields, the OData $filter
// forms the tools use, and object ids in @odata.id URLs.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "server/json_text.h"  // StringMember

namespace apm::sim {

// Graph's limits the simulator enforces (docs/graph-facts.md#batching, #entra-devices-and-groups).
inline constexpr size_t kMaxBatchRequests = 20;
inline constexpr size_t kMaxMembersPerPatch = 20;
inline constexpr const char* kImports =
    "/deviceManagement/importedWindowsAutopilotDeviceIdentities";
inline constexpr const char* kMetadata = "https://graph.microsoft.com/";

// A $filter the simulator understands.
struct Filter {
  bool contains = false;
  std::string field;
  std::string value;
};

// %XX only: '+' is literal in a path.
std::optional<std::string> PercentDecode(std::string_view s);

// A string member, "" for a missing or null one; false in *ok for another type.
std::string StringField(const nlohmann::json& j, const char* name, bool* ok);

// contains(field,'value') or field eq 'value'; '' escapes a quote inside the literal.
std::optional<Filter> ParseFilter(std::string_view text);

// Whether `item`'s string field fits the filter (letter case aside).
bool FilterMatches(const Filter& f, const nlohmann::json& item);

// The object id at the end of an @odata.id URL (…/directoryObjects/{id}).
std::optional<std::string> ObjectIdFromUrl(const std::string& url);

}  // namespace apm::sim
