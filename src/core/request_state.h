// The life of a device request, as clients and pages see it.
#pragma once

#include <optional>
#include <string_view>

namespace apm {

enum class RequestState {
  kPendingApproval,
  kApproved,
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

inline constexpr RequestState kAllRequestStates[] = {
    RequestState::kPendingApproval, RequestState::kApproved,      RequestState::kImporting,
    RequestState::kWaitingForSync,  RequestState::kAddingToGroup, RequestState::kWaitingForProfile,
    RequestState::kCompleted,       RequestState::kFailed,        RequestState::kRejected,
    RequestState::kExpired,         RequestState::kNotAllowed};

// Wire name, e.g. "pending_approval".
std::string_view RequestStateName(RequestState state);
std::optional<RequestState> ParseRequestState(std::string_view name);

// Human text for the current step, e.g. "Waiting for approval".
std::string_view RequestStateStep(RequestState state);

// Terminal states never change again.
bool IsTerminal(RequestState state);

}  // namespace apm
