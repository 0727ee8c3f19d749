// A request as a submission leaves it (pending approval), for tests that write to a store
// directly. Callers change what their case is about.
#pragma once

#include <cstdint>
#include <string>

#include "server/store/request_store.h"

namespace apm::testing {

inline StoredRequest PendingRequest(const std::string& id, const std::string& serial,
                                    const std::string& client_address, int64_t now_ms) {
  StoredRequest r;
  r.id = id;
  r.serial_number = serial;
  r.manufacturer = "LENOVO";
  r.model = "21R3001BUK";
  r.hardware_hash = "T0E=";
  r.hash_fingerprint = "abcdef012345";
  r.client_address = client_address;
  r.api = "v1";
  r.verification = "verified";
  r.state = RequestState::kPendingApproval;
  r.step = "Waiting for approval";
  r.created_at = r.updated_at = now_ms;
  r.expires_at = now_ms + 60 * 60 * 1000;
  return r;
}

}  // namespace apm::testing
