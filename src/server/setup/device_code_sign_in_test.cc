#include "server/setup/device_code_sign_in.h"

#include <gtest/gtest.h>

#include <deque>
#include <nlohmann/json.hpp>

#include "core/base64.h"

namespace apm {
namespace {

using json = nlohmann::json;

// Answers each request with the next scripted status and body, and keeps the requests.
class ScriptedAnswers : public OutboundHttp {
 public:
  Result<OutboundResponse> Send(const OutboundRequest& request, SendReport*) override {
    sent.push_back(request);
    if (answers.empty()) return Status::Unavailable("no more answers");
    OutboundResponse r = answers.front();
    answers.pop_front();
    return r;
  }
  void Add(int status, const json& body) {
    OutboundResponse r;
    r.status = status;
    r.body = body.dump();
    answers.push_back(r);
  }
  std::deque<OutboundResponse> answers;
  std::vector<OutboundRequest> sent;
};

class DeviceCodeSignInTest : public ::testing::Test {
 protected:
  DeviceCodeSignInTest() {
    DeviceCodeSignIn::Options options;
    options.login_endpoint = "https://login.test";
    options.tenant = "organizations";
    options.scopes = "Application.ReadWrite.All User.Read";
    sign_in_ = std::make_unique<DeviceCodeSignIn>(options, http_, clock_,
                                                  [this](std::chrono::milliseconds d) {
                                                    waits_.push_back(d.count() / 1000);
                                                    clock_.Advance(d);
                                                    return true;
                                                  });
  }
  void CodeAnswer(int64_t expires_in = 900, int64_t interval = 5) {
    http_.Add(200, {{"device_code", "DEV"},
                    {"user_code", "ABCD12345"},
                    {"verification_uri", "https://microsoft.com/devicelogin"},
                    {"expires_in", expires_in},
                    {"interval", interval},
                    {"message",
                     "To sign in, open https://microsoft.com/devicelogin, code "
                     "ABCD12345."}});
  }
  Result<AdminSignIn> Run() {
    return sign_in_->SignIn([this](const std::string& m) { shown_ = m; });
  }

  ManualClock clock_;
  ScriptedAnswers http_;
  std::unique_ptr<DeviceCodeSignIn> sign_in_;
  std::vector<int64_t> waits_;
  std::string shown_;
};

TEST_F(DeviceCodeSignInTest, PollsUntilTheAdminSignedInAndReadsTheTenant) {
  CodeAnswer();
  http_.Add(400, {{"error", "authorization_pending"}});
  http_.Add(503, {{"error", "temporarily_unavailable"}});  // asked again
  const json claims = {{"tid", "t-1"}, {"preferred_username", "ada@contoso.example"}};
  http_.Add(200, {{"access_token", "AT"},
                  {"id_token", "e30." + Base64UrlEncodeNoPad(claims.dump()) + ".sig"}});
  Result<AdminSignIn> signed_in = Run();
  ASSERT_TRUE(signed_in.ok()) << signed_in.status().message();
  EXPECT_EQ(signed_in->access_token, "AT");
  EXPECT_EQ(signed_in->tenant_id, "t-1");
  EXPECT_EQ(signed_in->user, "ada@contoso.example");
  EXPECT_EQ(shown_, "To sign in, open https://microsoft.com/devicelogin, code ABCD12345.");
  EXPECT_EQ(waits_, (std::vector<int64_t>{5, 5, 5}));
  ASSERT_EQ(http_.sent.size(), 4u);
  EXPECT_EQ(http_.sent[0].url, "https://login.test/organizations/oauth2/v2.0/devicecode");
  EXPECT_NE(http_.sent[0].body.find("scope=openid%20profile%20offline_access%20https%3A%2F%2F"
                                    "graph.microsoft.com%2FApplication.ReadWrite.All"),
            std::string::npos)
      << http_.sent[0].body;
  EXPECT_NE(http_.sent[1].body.find("device_code=DEV"), std::string::npos);
}

TEST_F(DeviceCodeSignInTest, SlowDownWidensTheWaitAndADeclineStops) {
  CodeAnswer(900, 0);  // an interval of 0 is taken as 1 s
  http_.Add(400, {{"error", "slow_down"}});
  http_.Add(400, {{"error", "authorization_declined"}});
  Result<AdminSignIn> signed_in = Run();
  EXPECT_EQ(signed_in.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(signed_in.status().message().find("Need admin approval"), std::string::npos);
  EXPECT_EQ(waits_, (std::vector<int64_t>{1, 6}));
}

TEST_F(DeviceCodeSignInTest, NobodySigningInEndsWhenTheCodeExpires) {
  CodeAnswer(60, 25);
  for (int i = 0; i < 10; ++i) http_.Add(400, {{"error", "authorization_pending"}});
  Result<AdminSignIn> signed_in = Run();
  EXPECT_EQ(signed_in.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(signed_in.status().message().find("nobody signed in with the code within 1 minutes"),
            std::string::npos)
      << signed_in.status().message();
  EXPECT_EQ(waits_.size(), 3u);  // 25, 50, 75 s: the third ends past the minute
}

TEST_F(DeviceCodeSignInTest, ARefusedStartSaysWhatEntraSaid) {
  http_.Add(400, {{"error", "unauthorized_client"},
                  {"error_description",
                   "AADSTS700016: Application with identifier 'x' was not found.\r\nTrace ID: 1"}});
  Result<AdminSignIn> signed_in = Run();
  EXPECT_EQ(signed_in.status().message(),
            "Entra ID did not start the sign-in: AADSTS700016: Application with identifier 'x' "
            "was not found.");
  EXPECT_TRUE(waits_.empty());
}

}  // namespace
}  // namespace apm
