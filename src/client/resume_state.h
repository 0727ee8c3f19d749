// The request this device submitted, kept between runs so a second start picks it up, and
// after it ended so `ap --collect-diagnostics` can attach its bundle to it.
#pragma once

#include <optional>
#include <string>

#include "core/status.h"

namespace apm::client {

struct SavedRequest {
  std::string server_url;
  std::string serial_number;
  std::string request_id;
};

class ResumeState {
 public:
  explicit ResumeState(std::string dir) : dir_(std::move(dir)) {}
  // The saved request to follow, if it was made for this server and serial and has not ended.
  std::optional<SavedRequest> Load(const std::string& server_url, const std::string& serial);
  // The last request made for this server and serial, ended or not.
  std::optional<SavedRequest> LoadLast(const std::string& server_url, const std::string& serial);
  Status Save(const SavedRequest& request);
  // The request ended (or cannot be followed): the next run submits anew.
  void Clear();
  std::string path() const;

 private:
  std::optional<SavedRequest> Read(const std::string& server_url, const std::string& serial,
                                   bool* ended) const;
  std::string dir_;
};

}  // namespace apm::client
