// What the import engine holds for one job while it runs it (internal to src/server/importer).
#pragma once

#include <string>

#include "server/importer/import_engine.h"

namespace apm {

struct ImportEngine::Slot {
  ImportJob job;
  RequestState state = RequestState::kApproved;
  std::string step;
  std::string serial;  // loaded for the import
  std::string hash;
  std::string manufacturer;  // for a corporate identifier
  std::string model;
  bool loaded = false;
  int64_t due_at = 0;
  int64_t phase_entered_ms = 0;  // when the job entered its current phase (this run)
  bool entered_by_move = false;  // phase_entered_ms is when it moved there, not a resume
  int failures = 0;
  bool busy = false;
  bool done = false;
  bool solo = false;  // import alone (a batch it was in was refused)
  std::string last_error;
};

}  // namespace apm
