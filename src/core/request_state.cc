#include "core/request_state.h"

namespace apm {

std::string_view RequestStateName(RequestState state) {
  switch (state) {
    case RequestState::kPendingApproval:
      return "pending_approval";
    case RequestState::kApproved:
      return "approved";
    case RequestState::kRemovingRegistration:
      return "removing_registration";
    case RequestState::kImporting:
      return "importing";
    case RequestState::kWaitingForSync:
      return "waiting_for_sync";
    case RequestState::kAddingToGroup:
      return "adding_to_group";
    case RequestState::kWaitingForProfile:
      return "waiting_for_profile";
    case RequestState::kCompleted:
      return "completed";
    case RequestState::kFailed:
      return "failed";
    case RequestState::kRejected:
      return "rejected";
    case RequestState::kExpired:
      return "expired";
    case RequestState::kNotAllowed:
      return "not_allowed";
  }
  return "unknown";
}

std::optional<RequestState> ParseRequestState(std::string_view name) {
  for (RequestState s : kAllRequestStates) {
    if (RequestStateName(s) == name) return s;
  }
  return std::nullopt;
}

std::string_view RequestStateStep(RequestState state) {
  switch (state) {
    case RequestState::kPendingApproval:
      return "Waiting for approval";
    case RequestState::kApproved:
      return "Approved, waiting to start the import";
    case RequestState::kRemovingRegistration:
      return "Removing the old registration";
    case RequestState::kImporting:
      return "Importing the device into Autopilot";
    case RequestState::kWaitingForSync:
      return "Waiting for Autopilot to register the device";
    case RequestState::kAddingToGroup:
      return "Adding the device to the profile group";
    case RequestState::kWaitingForProfile:
      return "Waiting for the Autopilot profile";
    case RequestState::kCompleted:
      return "Ready: restart the device to continue";
    case RequestState::kFailed:
      return "The import failed";
    case RequestState::kRejected:
      return "The request was rejected";
    case RequestState::kExpired:
      return "The request expired before it was approved";
    case RequestState::kNotAllowed:
      return "This device is not allowed";
  }
  return "Unknown";
}

bool IsTerminal(RequestState state) {
  switch (state) {
    case RequestState::kCompleted:
    case RequestState::kFailed:
    case RequestState::kRejected:
    case RequestState::kExpired:
    case RequestState::kNotAllowed:
      return true;
    default:
      return false;
  }
}

}  // namespace apm
