// Structured logs on spdlog: text ("message key=value ...") or one JSON object per line.
// Never pass secrets or whole hardware hashes here; use HashFingerprint().
#pragma once

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>
#include <string_view>

#include "core/status.h"

namespace apm {

// Sets up the process-wide logger; `format` is "text" or "json", `level` a spdlog level name.
void InitLogging(std::string_view format, std::string_view level);

void LogEvent(spdlog::level::level_enum level, std::string_view message,
              const nlohmann::json& fields = nlohmann::json::object());

inline void LogInfo(std::string_view m, const nlohmann::json& f = nlohmann::json::object()) {
  LogEvent(spdlog::level::info, m, f);
}
inline void LogWarn(std::string_view m, const nlohmann::json& f = nlohmann::json::object()) {
  LogEvent(spdlog::level::warn, m, f);
}
inline void LogError(std::string_view m, const nlohmann::json& f = nlohmann::json::object()) {
  LogEvent(spdlog::level::err, m, f);
}

// Writes out buffered lines (after start-up and at shutdown).
void FlushLogs();

// One line per answered request.
void LogAccess(std::string_view method, std::string_view route, std::string_view path,
               std::string_view client, int status, double seconds);

}  // namespace apm
