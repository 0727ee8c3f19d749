#include "client/messages.h"

#include <cstdio>

#include "client/server_api.h"

namespace apm::client {
namespace {

StatusMessage Failure(std::string headline, std::string detail, ExitCode code) {
  return {std::move(headline), std::move(detail), Tone::kFailure, code};
}

StatusMessage DescribeFailure(const RequestStatus& status) {
  const RequestError error = status.error.value_or(RequestError{});
  std::string said = error.message.empty() ? "" : " (" + error.message + ")";
  switch (error.code) {
    case 806:
      return Failure("This device is already registered",
                     "Autopilot already has this device (806 ZtdDeviceAlreadyAssigned). Restart "
                     "the device to pick up its profile; if it still gets none, ask your IT "
                     "admin to check the device's Autopilot profile assignment.",
                     kExitAlreadyRegistered);
    case 808:
      return Failure("This device belongs to another organisation",
                     "Autopilot has this device registered to another organisation (808 "
                     "ZtdDeviceAssignedToOtherTenant). The seller or the previous owner must "
                     "deregister it first; your IT admin can help.",
                     kExitOtherTenant);
    case 802:
      return Failure("Autopilot refused the hardware hash",
                     "The hardware hash of this device is not valid for Autopilot (802" +
                         (error.name.empty() ? std::string() : " " + error.name) +
                         "). Contact your IT admin." + said,
                     kExitImportFailed);
    default:
      break;
  }
  if (error.name == "StepTimedOut") {
    return Failure(
        "The registration took too long",
        "Autopilot did not finish in time" + said + ". Try again later or contact your IT admin.",
        kExitImportFailed);
  }
  std::string code = error.code ? std::to_string(error.code) + " " : "";
  std::string what = code + error.name;
  return Failure("The registration failed",
                 "Something went wrong while registering this device" +
                     (what.empty() ? std::string() : " (" + what + ")") +
                     (error.message.empty() ? "" : ": " + error.message) +
                     ". Contact your IT admin and quote the request id.",
                 kExitImportFailed);
}

}  // namespace

StatusMessage DescribeRequest(const RequestStatus& status) {
  switch (status.state) {
    case RequestState::kPendingApproval:
      return {"Waiting for approval",
              status.self_service ? "Scan the QR code with your phone and sign in to approve "
                                    "this device."
                                  : "Call your helpdesk and quote the request id.",
              Tone::kWorking, kExitCompleted};
    case RequestState::kApproved:
      return {"Approved", "The registration starts in a moment.", Tone::kWorking, kExitCompleted};
    case RequestState::kRemovingRegistration:
      return {"Removing the old registration",
              "This device was registered before (a repair or a reset); the old registration is "
              "removed first. This can take a few minutes.",
              Tone::kWorking, kExitCompleted};
    case RequestState::kImporting:
      return {"Uploading the device to Autopilot", "This usually takes a few minutes.",
              Tone::kWorking, kExitCompleted};
    case RequestState::kWaitingForSync:
      return {"Waiting for Autopilot to register the device", "This can take several minutes.",
              Tone::kWorking, kExitCompleted};
    case RequestState::kAddingToGroup:
      return {"Adding the device to the deployment group", "Almost there.", Tone::kWorking,
              kExitCompleted};
    case RequestState::kWaitingForProfile:
      return {"Waiting for the Autopilot profile",
              "Autopilot assigns the profile; this can take up to 15 minutes.", Tone::kWorking,
              kExitCompleted};
    case RequestState::kCompleted:
      return {"Your device is ready", "Restart the device to continue with Autopilot setup.",
              Tone::kSuccess, kExitCompleted};
    case RequestState::kFailed:
      return DescribeFailure(status);
    case RequestState::kRejected: {
      std::string reason = status.error && !status.error->message.empty()
                               ? " The reason given: " + status.error->message
                               : "";
      return Failure("The request was rejected",
                     "An approver did not allow this device to be registered." + reason,
                     kExitRejected);
    }
    case RequestState::kExpired:
      return Failure("The request expired",
                     "Nobody approved it in time. Press Retry to ask again, or call your "
                     "helpdesk.",
                     kExitExpired);
    case RequestState::kNotAllowed:
      return Failure(
          "This device is not allowed",
          "Its manufacturer or model is not on your organisation's list of devices "
          "that may be registered." +
              (status.error && !status.error->message.empty() ? " (" + status.error->message + ")"
                                                              : std::string()),
          kExitNotAllowed);
  }
  return Failure("Unknown state", "", kExitServerError);
}

std::string FormatElapsed(long long seconds) {
  if (seconds < 0) seconds = 0;
  char text[32];
  if (seconds < 60) {
    std::snprintf(text, sizeof text, "%lld s", seconds);
  } else if (seconds < 3600) {
    std::snprintf(text, sizeof text, "%lld min %02lld s", seconds / 60, seconds % 60);
  } else {
    std::snprintf(text, sizeof text, "%lld h %02lld min", seconds / 3600, seconds / 60 % 60);
  }
  return text;
}

}  // namespace apm::client
