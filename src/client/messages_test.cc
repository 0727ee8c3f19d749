#include "client/messages.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "client/server_api.h"

namespace apm::client {
namespace {

using ::testing::HasSubstr;

RequestStatus StatusOf(RequestState state, std::optional<RequestError> error = std::nullopt) {
  RequestStatus s;
  s.id = "id";
  s.state = state;
  s.terminal = IsTerminal(state);
  s.error = std::move(error);
  return s;
}

TEST(DescribeRequestTest, WorkingStatesAreBlueAndNamed) {
  for (RequestState state : kAllRequestStates) {
    StatusMessage v = DescribeRequest(StatusOf(state));
    EXPECT_FALSE(v.headline.empty());
    EXPECT_EQ(v.tone == Tone::kWorking, !IsTerminal(state)) << RequestStateName(state);
  }
  EXPECT_EQ(DescribeRequest(StatusOf(RequestState::kWaitingForProfile)).headline,
            "Waiting for the Autopilot profile");
}

TEST(DescribeRequestTest, ModeDecidesTheInstruction) {
  RequestStatus s = StatusOf(RequestState::kPendingApproval);
  s.self_service = true;
  EXPECT_THAT(DescribeRequest(s).detail, HasSubstr("Scan the QR code"));
  s.self_service = false;
  EXPECT_THAT(DescribeRequest(s).detail, HasSubstr("helpdesk"));
}

TEST(DescribeRequestTest, OutcomesHaveTheirOwnWordsAndExitCodes) {
  StatusMessage done = DescribeRequest(StatusOf(RequestState::kCompleted));
  EXPECT_EQ(done.tone, Tone::kSuccess);
  EXPECT_EQ(done.exit_code, kExitCompleted);
  EXPECT_THAT(done.detail, HasSubstr("Restart"));

  StatusMessage registered = DescribeRequest(
      StatusOf(RequestState::kFailed, RequestError{806, "ZtdDeviceAlreadyAssigned", "x"}));
  EXPECT_EQ(registered.headline, "This device is already registered");
  EXPECT_EQ(registered.exit_code, kExitAlreadyRegistered);
  EXPECT_EQ(registered.tone, Tone::kFailure);

  StatusMessage other = DescribeRequest(
      StatusOf(RequestState::kFailed, RequestError{808, "ZtdDeviceAssignedToOtherTenant", ""}));
  EXPECT_THAT(other.headline, HasSubstr("another organisation"));
  EXPECT_EQ(other.exit_code, kExitOtherTenant);

  StatusMessage timeout = DescribeRequest(
      StatusOf(RequestState::kFailed, RequestError{0, "StepTimedOut", "profile not assigned"}));
  EXPECT_EQ(timeout.exit_code, kExitImportFailed);
  EXPECT_THAT(timeout.detail, HasSubstr("profile not assigned"));

  StatusMessage rejected =
      DescribeRequest(StatusOf(RequestState::kRejected, RequestError{0, "", "wrong desk"}));
  EXPECT_EQ(rejected.exit_code, kExitRejected);
  EXPECT_THAT(rejected.detail, HasSubstr("wrong desk"));

  EXPECT_EQ(DescribeRequest(StatusOf(RequestState::kExpired)).exit_code, kExitExpired);
  EXPECT_EQ(DescribeRequest(StatusOf(RequestState::kNotAllowed)).exit_code, kExitNotAllowed);
  StatusMessage graph =
      DescribeRequest(StatusOf(RequestState::kFailed, RequestError{0, "GraphError", "Forbidden"}));
  EXPECT_THAT(graph.detail, HasSubstr("GraphError"));
  EXPECT_THAT(graph.detail, HasSubstr("Forbidden"));
}

TEST(FormatElapsedTest, SecondsMinutesHours) {
  EXPECT_EQ(FormatElapsed(42), "42 s");
  EXPECT_EQ(FormatElapsed(65), "1 min 05 s");
  EXPECT_EQ(FormatElapsed(3720), "1 h 02 min");
  EXPECT_EQ(FormatElapsed(-3), "0 s");
}

}  // namespace
}  // namespace apm::client
