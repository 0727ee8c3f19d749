// Named leases with one holder at a time, timed by the database's clock (SqlRequestStore).
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"

namespace apm {

struct LeaseGrant {
  bool held = false;
  // When the lease was just taken from another holder: how long (ms, by the database's clock)
  // until that holder's time had run out or since it did (negative); 0 with `from_other` false.
  bool from_other = false;
  int64_t other_until_ms = 0;
  std::string previous_holder;  // who the row named before (empty when there was no row)
};

class LeaseStore {
 public:
  virtual ~LeaseStore() = default;
  // Takes or renews `name` for `holder` for `ttl_ms` when it is free, ran out, or is already
  // the holder's.
  virtual Result<LeaseGrant> TryLease(const std::string& name, const std::string& holder,
                                      int64_t ttl_ms) = 0;
  // Ends it now if `holder` has it (the row stays, so the next holder knows when it ended).
  virtual Status ReleaseLease(const std::string& name, const std::string& holder) = 0;
};

}  // namespace apm
