#include "client/resume_state.h"

#include <nlohmann/json.hpp>

#include "client/file_io.h"

namespace apm::client {

using json = nlohmann::json;

std::string ResumeState::path() const {
  bool separator = !dir_.empty() && (dir_.back() == '/' || dir_.back() == '\\');
  return dir_ + (separator ? "" : "/") + "request.json";
}

std::optional<SavedRequest> ResumeState::Read(const std::string& server_url,
                                              const std::string& serial, bool* ended) const {
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
  auto it = saved.find("ended");
  *ended = it != saved.end() && it->is_boolean() && it->get<bool>();
  return request;
}

std::optional<SavedRequest> ResumeState::Load(const std::string& server_url,
                                              const std::string& serial) {
  bool ended = false;
  std::optional<SavedRequest> request = Read(server_url, serial, &ended);
  if (ended) return std::nullopt;
  return request;
}

std::optional<SavedRequest> ResumeState::LoadLast(const std::string& server_url,
                                                  const std::string& serial) {
  bool ended = false;
  return Read(server_url, serial, &ended);
}

Status ResumeState::Save(const SavedRequest& request) {
  if (Status made = MakeDirectories(dir_); !made.ok()) return made;
  return WriteFileAtomically(path(), json{{"server", request.server_url},
                                          {"serialNumber", request.serial_number},
                                          {"requestId", request.request_id}}
                                         .dump());
}

void ResumeState::Clear() {
  Result<std::string> text = ReadWholeFile(path());
  json saved = text.ok() ? json::parse(*text, nullptr, false) : json();
  if (!saved.is_object()) return RemoveFile(path());
  saved["ended"] = true;
  // Kept for the diagnostics; if it cannot be marked, it must not be followed again.
  if (!WriteFileAtomically(path(), saved.dump()).ok()) RemoveFile(path());
}

}  // namespace apm::client
