#include "client/resume_state.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace apm::client {

namespace fs = std::filesystem;
using json = nlohmann::json;

std::string ResumeState::path() const {
  return (fs::path(dir_) / "request.json").string();
}

std::optional<SavedRequest> ResumeState::Load(const std::string& server_url,
                                              const std::string& serial) {
  std::ifstream in(path(), std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  json saved = json::parse(text.str(), nullptr, false);
  if (!saved.is_object()) return std::nullopt;  // a damaged file is as good as none
  SavedRequest request{saved.value("server", ""), saved.value("serialNumber", ""),
                       saved.value("requestId", "")};
  if (request.server_url != server_url || request.serial_number != serial ||
      request.request_id.empty()) {
    return std::nullopt;
  }
  return request;
}

Status ResumeState::Save(const SavedRequest& request) {
  std::error_code error;
  fs::create_directories(dir_, error);
  if (error) return Status::Unavailable("cannot create " + dir_ + ": " + error.message());
  std::string temp = path() + ".tmp";
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out << json{{"server", request.server_url},
                {"serialNumber", request.serial_number},
                {"requestId", request.request_id}}
               .dump();
    if (!out) return Status::Unavailable("cannot write " + temp);
  }
  fs::rename(temp, path(), error);
  if (error) return Status::Unavailable("cannot write " + path() + ": " + error.message());
  return Status::Ok();
}

void ResumeState::Clear() {
  std::error_code ignored;
  fs::remove(path(), ignored);
}

}  // namespace apm::client
