// How long this tenant's recent waits took, per waiting phase, and from that when to look at a
// waiting job again: rarely while its change is unlikely, often while it is likely (about 20
// looks across the likely range, or a tenth of the wait if more often), and backing off once it
// is later than almost every recent one (docs/operations.md, "Polling").
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <vector>

#include "server/store/import_phase.h"
#include "server/store/request_store.h"

namespace apm {

class StepTimes {
 public:
  // Below this many recent waits of a phase, the plain rule applies (a tenth of the wait).
  static constexpr size_t kMinSamples = 5;
  // The waits kept per phase (the newest).
  static constexpr size_t kKept = 50;

  // A wait that ended at `finished_at`; `fresh` ones are also handed out by TakeUnsaved.
  void Add(ImportPhase phase, int64_t took_ms, int64_t finished_at = 0, bool fresh = false);
  // The fresh waits added since the last call (for the store).
  std::vector<StepTime> TakeUnsaved();

  // Milliseconds until a job that has waited `waited_ms` in `phase` is polled again, between
  // `floor_ms` and `ceiling_ms`.
  int64_t NextPollIn(ImportPhase phase, int64_t waited_ms, int64_t floor_ms,
                     int64_t ceiling_ms) const;

  // The recent waits of `phase`, oldest first (for tests and the status page).
  std::vector<int64_t> Recent(ImportPhase phase) const;

 private:
  mutable std::mutex mu_;  // guards the members below
  std::map<ImportPhase, std::deque<int64_t>> recent_;
  std::vector<StepTime> unsaved_;
};

}  // namespace apm
