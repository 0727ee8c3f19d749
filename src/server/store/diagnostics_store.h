// Helpdesk diagnostics bundles a device sent for its request (docs/client.md#diagnostics):
// kept in the request's database and removed with the request (purge, deletion).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace apm {

struct DiagnosticsBundle {
  std::string request_id;
  int64_t number = 0;     // 1, 2, … within the request; set by the store
  std::string file_name;  // as the client named it (ValidDiagnosticsFileName)
  int64_t uploaded_at = 0;
  std::string address;  // the client's address
  int64_t size_bytes = 0;
  std::string sha256;  // hex, of the bytes
  std::string bytes;   // the zip, from GetDiagnostics only
};

class DiagnosticsStore {
 public:
  virtual ~DiagnosticsStore() = default;
  // Keeps `bytes` as `bundle` (whose own bytes are not read) for its request, numbered after the
  // request's others; returns it without the bytes. kNotFound when the request is gone;
  // kResourceExhausted when it already has `max_per_request` bundles.
  virtual Result<DiagnosticsBundle> AddDiagnostics(const DiagnosticsBundle& bundle,
                                                   std::string_view bytes, int max_per_request) = 0;
  // The request's bundles without their bytes, oldest first.
  virtual Result<std::vector<DiagnosticsBundle>> ListDiagnostics(const std::string& request_id) = 0;
  // One bundle with its bytes; kNotFound when there is none.
  virtual Result<DiagnosticsBundle> GetDiagnostics(const std::string& request_id,
                                                   int64_t number) = 0;
};

}  // namespace apm
