#include "client/resume_state.h"

#include <nlohmann/json.hpp>

#include "client/file_io.h"

namespace apm::client {

using json = nlohmann::json;

std::string ResumeState::path() const {
  bool separator = !dir_.empty() && (dir_.back() == '/' || dir_.back() == '\\');
  return dir_ + (separator ? "" : "/") + "request.json";
}

std::optional<SavedRequest> ResumeState::Load(const std::string& server_url,
                                              const std::string& serial) {
  Result<std::string> text = ReadWholeFile(path());
  if (!text.ok()) return std::nullopt;
  json saved = json::parse(*text, nullptr, false);
  if (!saved.is_object()) return std::nullopt;  // a damaged file is as good as none
  auto field = [&](const char* name) {
    auto it = saved.find(name);
    return it != saved.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  SavedRequest request{field("server"), field("serialNumber"), field("requestId")};
  if (request.server_url != server_url || request.serial_number != serial ||
      request.request_id.empty()) {
    return std::nullopt;
  }
  return request;
}

Status ResumeState::Save(const SavedRequest& request) {
  if (Status made = MakeDirectories(dir_); !made.ok()) return made;
  return WriteFileAtomically(path(), json{{"server", request.server_url},
                                          {"serialNumber", request.serial_number},
                                          {"requestId", request.request_id}}
                                         .dump());
}

void ResumeState::Clear() {
  RemoveFile(path());
}

}  // namespace apm::client
