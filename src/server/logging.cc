#include "server/logging.h"

#include "server/json_text.h"

#include <spdlog/sinks/stdout_sinks.h>

#include <atomic>
#include <cstdio>

namespace apm {
namespace {

std::atomic<bool> g_json{false};

void AppendText(std::string& out, const nlohmann::json& fields) {
  for (const auto& [k, v] : fields.items()) {
    out += ' ';
    out += k;
    out += '=';
    if (v.is_string()) {
      const std::string& s = v.get_ref<const std::string&>();
      bool quote = s.empty() || s.find_first_of(" \"=") != std::string::npos;
      out += quote ? JsonText(nlohmann::json(s)) : s;
    } else {
      out += JsonText(v);
    }
  }
}

}  // namespace

void InitLogging(std::string_view format, std::string_view level) {
  // A large stdout buffer: the access log then costs one write(2) per ~500 lines.
  static char buffer[1 << 16];
  std::setvbuf(stdout, buffer, _IOFBF, sizeof buffer);
  auto logger = spdlog::stdout_logger_mt("apm");
  spdlog::set_default_logger(logger);
  g_json = format == "json";
  if (g_json) {
    spdlog::set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l",%v)",
                        spdlog::pattern_time_type::utc);
  } else {
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %-5l %v", spdlog::pattern_time_type::utc);
  }
  spdlog::set_level(spdlog::level::from_str(std::string(level)));
  // Warnings and errors reach the log at once; the rest within a second, so that the access
  // log costs a buffered write per request and not a system call.
  spdlog::flush_on(spdlog::level::warn);
  spdlog::flush_every(std::chrono::seconds(1));
}

void FlushLogs() {
  spdlog::default_logger()->flush();
}

void LogEvent(spdlog::level::level_enum level, std::string_view message,
              const nlohmann::json& fields) {
  if (!spdlog::should_log(level)) return;
  std::string line;
  if (g_json) {
    nlohmann::json obj = nlohmann::json::object();
    obj["msg"] = message;
    if (fields.is_object()) {
      for (const auto& [k, v] : fields.items()) obj[k] = v;
    }
    line = JsonText(obj);
    line.erase(0, 1);  // the pattern opens the object
  } else {
    line = message;
    AppendText(line, fields);
  }
  spdlog::log(level, "{}", line);
}

void LogAccess(std::string_view method, std::string_view route, std::string_view path,
               std::string_view client, int status, double seconds) {
  if (!spdlog::should_log(spdlog::level::info)) return;
  // Formatted directly: this runs for every request, and a JSON tree per line costs more than
  // the request itself.
  double ms = double(int64_t(seconds * 100000)) / 100;
  if (g_json) {
    spdlog::info(
        R"("msg":"request","method":{},"route":{},"path":{},"status":{},"ms":{},"client":{}}})",
        JsonText(nlohmann::json(method)), JsonText(nlohmann::json(route)),
        JsonText(nlohmann::json(std::string(path))), status, ms, JsonText(nlohmann::json(client)));
  } else {
    spdlog::info("request method={} route={} path={} status={} ms={} client={}", method, route,
                 path, status, ms, client);
  }
}

}  // namespace apm
