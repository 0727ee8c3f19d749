#include "client/messages.h"

#include "client/catalogue.h"
#include "client/server_api.h"

namespace apm::client {
namespace {

StatusMessage Failure(Msg headline, std::string detail, ExitCode code) {
  return {Text(headline), std::move(detail), Tone::kFailure, code};
}

StatusMessage Working(Msg headline, Msg detail) {
  return {Text(headline), Text(detail), Tone::kWorking, kExitCompleted};
}

StatusMessage DescribeFailure(const RequestStatus& status) {
  const RequestError error = status.error.value_or(RequestError{});
  switch (error.code) {
    case 806:
      return Failure(Msg::kAlreadyRegisteredHeadline,
                     Text(Msg::kAlreadyRegisteredDetail, {"806 ZtdDeviceAlreadyAssigned"}),
                     kExitAlreadyRegistered);
    case 808:
      return Failure(Msg::kOtherTenantHeadline,
                     Text(Msg::kOtherTenantDetail, {"808 ZtdDeviceAssignedToOtherTenant"}),
                     kExitOtherTenant);
    case 802:
      return Failure(
          Msg::kHashRefusedHeadline,
          Text(Msg::kHashRefusedDetail, {error.name.empty() ? "802" : "802 " + error.name}) +
              InParentheses(error.message),
          kExitImportFailed);
    default:
      break;
  }
  if (error.name == "StepTimedOut") {
    return Failure(Msg::kTimedOutHeadline,
                   Text(Msg::kTimedOutDetail) + InParentheses(error.message), kExitImportFailed);
  }
  std::string code = error.code ? std::to_string(error.code) + " " : "";
  std::string what = code + error.name;
  if (!error.message.empty()) what += (what.empty() ? "" : ": ") + error.message;
  return Failure(Msg::kImportFailedHeadline, Text(Msg::kImportFailedDetail) + InParentheses(what),
                 kExitImportFailed);
}

}  // namespace

std::string InParentheses(const std::string& words) {
  return words.empty() ? "" : " (" + words + ")";
}

StatusMessage DescribeRequest(const RequestStatus& status) {
  switch (status.state) {
    case RequestState::kPendingApproval:
      return Working(Msg::kPendingHeadline,
                     status.self_service ? Msg::kPendingSelfService : Msg::kPendingHelpdesk);
    case RequestState::kApproved:
      return Working(Msg::kApprovedHeadline, Msg::kApprovedDetail);
    case RequestState::kRemovingRegistration:
      return Working(Msg::kRemovingHeadline, Msg::kRemovingDetail);
    case RequestState::kImporting:
      return Working(Msg::kImportingHeadline, Msg::kImportingDetail);
    case RequestState::kWaitingForSync:
      return Working(Msg::kWaitingForSyncHeadline, Msg::kWaitingForSyncDetail);
    case RequestState::kAddingToGroup:
      return Working(Msg::kAddingToGroupHeadline, Msg::kAddingToGroupDetail);
    case RequestState::kWaitingForProfile:
      return Working(Msg::kWaitingForProfileHeadline, Msg::kWaitingForProfileDetail);
    case RequestState::kCompleted:
      return {Text(Msg::kCompletedHeadline), Text(Msg::kCompletedDetail), Tone::kSuccess,
              kExitCompleted};
    case RequestState::kFailed:
      return DescribeFailure(status);
    case RequestState::kRejected: {
      // The approver's reason is shown as they wrote it.
      std::string detail = Text(Msg::kRejectedDetail);
      if (status.error && !status.error->message.empty()) {
        detail += " " + Text(Msg::kRejectedReason, {status.error->message});
      }
      return Failure(Msg::kRejectedHeadline, detail, kExitRejected);
    }
    case RequestState::kExpired:
      return Failure(Msg::kExpiredHeadline, Text(Msg::kExpiredDetail), kExitExpired);
    case RequestState::kNotAllowed:
      return Failure(
          Msg::kNotAllowedHeadline,
          Text(Msg::kNotAllowedDetail) + InParentheses(status.error ? status.error->message : ""),
          kExitNotAllowed);
  }
  return Failure(Msg::kUnknownState, "", kExitServerError);
}

std::string FormatElapsed(long long seconds) {
  if (seconds < 0) seconds = 0;
  auto two_digits = [](long long n) { return (n < 10 ? "0" : "") + std::to_string(n); };
  if (seconds < 60) return Text(Msg::kElapsedSeconds, {std::to_string(seconds)});
  if (seconds < 3600) {
    return Text(Msg::kElapsedMinutes, {std::to_string(seconds / 60), two_digits(seconds % 60)});
  }
  return Text(Msg::kElapsedHours, {std::to_string(seconds / 3600), two_digits(seconds / 60 % 60)});
}

}  // namespace apm::client
