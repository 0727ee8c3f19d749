// The request this device submitted, kept between runs so a second start picks it up.
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
  // The saved request, if it was made for this server and serial.
  std::optional<SavedRequest> Load(const std::string& server_url, const std::string& serial);
  Status Save(const SavedRequest& request);
  void Clear();
  std::string path() const;

 private:
  std::string dir_;
};

}  // namespace apm::client
