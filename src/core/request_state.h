// The life of a device request, as clients and pages see it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace apm {

// Why a request failed, as the Autopilot service or our own checks said it; the same on the
// server (stored) and in the client (read from the status JSON).
struct RequestError {
  int64_t code = 0;     // Autopilot's 8xx (e.g. 806), or 0 for the server's own outcomes
  std::string name;     // e.g. ZtdDeviceAlreadyAssigned, StepTimedOut
  std::string message;  // words a user understands
};

enum class RequestState {
  kPendingApproval,
  kApproved,
  kRemovingRegistration,  // a repair: the old registration is removed before the import
  kImporting,
  kWaitingForSync,
  kAddingToGroup,
  kWaitingForProfile,
  kCompleted,
  kFailed,
  kRejected,
  kExpired,
  kNotAllowed,
};

inline constexpr RequestState kAllRequestStates[] = {RequestState::kPendingApproval,
                                                     RequestState::kApproved,
                                                     RequestState::kRemovingRegistration,
                                                     RequestState::kImporting,
                                                     RequestState::kWaitingForSync,
                                                     RequestState::kAddingToGroup,
                                                     RequestState::kWaitingForProfile,
                                                     RequestState::kCompleted,
                                                     RequestState::kFailed,
                                                     RequestState::kRejected,
                                                     RequestState::kExpired,
                                                     RequestState::kNotAllowed};

// Wire name, e.g. "pending_approval".
std::string_view RequestStateName(RequestState state);
std::optional<RequestState> ParseRequestState(std::string_view name);

// Human text for the current step, e.g. "Waiting for approval".
std::string_view RequestStateStep(RequestState state);

// Terminal states never change again.
bool IsTerminal(RequestState state);

}  // namespace apm
