#include "core/request_state.h"

#include <gtest/gtest.h>

namespace apm {
namespace {

TEST(RequestState, NamesRoundTrip) {
  for (RequestState s : kAllRequestStates) {
    std::optional<RequestState> back = ParseRequestState(RequestStateName(s));
    ASSERT_TRUE(back.has_value()) << RequestStateName(s);
    EXPECT_EQ(*back, s);
    EXPECT_FALSE(RequestStateStep(s).empty());
  }
  EXPECT_FALSE(ParseRequestState("done").has_value());
}

TEST(RequestState, TerminalStates) {
  EXPECT_FALSE(IsTerminal(RequestState::kPendingApproval));
  EXPECT_FALSE(IsTerminal(RequestState::kWaitingForProfile));
  EXPECT_TRUE(IsTerminal(RequestState::kCompleted));
  EXPECT_TRUE(IsTerminal(RequestState::kFailed));
  EXPECT_TRUE(IsTerminal(RequestState::kRejected));
  EXPECT_TRUE(IsTerminal(RequestState::kExpired));
  EXPECT_TRUE(IsTerminal(RequestState::kNotAllowed));
}

}  // namespace
}  // namespace apm
