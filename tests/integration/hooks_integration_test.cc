// The original's decision functions (AzureFunctionsUrl) end to end: the real apm-server and
// apm-tenant-sim, and a local HTTP receiver standing in for the customer's Functions app.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>

#include "import_fixture.h"
#include "recording_receiver.h"

namespace apm::itest {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

class HooksTest : public ImportTest {
 protected:
  void SetUp() override { ASSERT_TRUE(functions_.Start()); }
  std::string FunctionsConfig(const std::string& extra = "") const {
    return "AzureFunctionsUrl = \"" + functions_.url() +
           "\"\n"
           "UseValidationFunction = true\n"
           "ValidationFunctionKey = \"validate-key\"\n"
           "UseGroupTagFunction = true\n"
           "UseAutoApprovalFunction = true\n"
           "AutoApprovalFunctionKey = \"approve-key\"\n"
           "ClientSecret = \"simulator-secret\"\n" +
           extra;
  }
  HttpResult SubmitV1(const std::string& serial) {
    return Http("POST", server_->url() + "/api/v1/requests", SubmitBody(serial), kJson);
  }
  RecordingReceiver functions_;
};

TEST_F(HooksTest, AnOldClientsRequestReachesTheFunctionsAsTheOriginalSentIt) {
  functions_.Script("validate", {200, "\"true\"", {}});
  functions_.Script("grouptag", {200, "\"Lab-7\"", {}});
  functions_.Script("autoapproval", {200, "false", {}});
  StartSim();
  StartServer(FunctionsConfig());
  const std::string guid = "3f2504e0-4f89-11d3-9a0c-0305e82c33a1";
  const std::string hash = LaptopHash("PF5FN001");
  json compat = {{"Id", guid},
                 {"SerialNumber", "PF5FN001"},
                 {"HardwareHash", hash},
                 {"Manufacturer", "LENOVO"},
                 {"Model", "21R3001BUK"},
                 {"Action", "IMPORT"}};
  HttpResult save = Http("POST", server_->url() + "/api-autopilot/" + guid + "/save-information",
                         compat.dump(), kJson);
  ASSERT_EQ(save.status, 200) << save.body << Problems();
  std::vector<RecordingReceiver::Call> calls = functions_.calls();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[0].function, "validate");
  EXPECT_EQ(calls[1].function, "grouptag");
  EXPECT_EQ(calls[2].function, "autoapproval");
  EXPECT_EQ(calls[0].key, "validate-key");
  EXPECT_EQ(calls[1].key, "");  // no key configured: no header
  EXPECT_EQ(calls[2].key, "approve-key");
  EXPECT_EQ(calls[0].content_type, "application/json; charset=utf-8");
  // Byte for byte the original's SystemInformation, but for the time it was sent.
  const std::regex time(R"("RequestTime":"\d\d/\d\d/\d{4} \d\d:\d\d:\d\d"\})");
  std::string before = R"({"Id":")" + guid + R"(","SerialNumber":"PF5FN001","HardwareHash":")" +
                       hash + R"(","Manufacturer":"LENOVO","Model":"21R3001BUK",)";
  EXPECT_EQ(calls[0].body.substr(0, before.size()), before);
  EXPECT_THAT(calls[0].body.substr(before.size()),
              ::testing::MatchesRegex(R"("GroupTag":null,"Comment":null,"Action":"IMPORT",)"
                                      R"("RequestTime":"[0-9/]{10} [0-9:]{8}"})"));
  EXPECT_TRUE(std::regex_search(calls[2].body, time));
  EXPECT_THAT(calls[2].body, HasSubstr(R"("GroupTag":"Lab-7","Comment":null)"));
  // Declined by auto-approval: it waits, and the approver's default tag is the proposed one.
  EXPECT_EQ(Http("GET", server_->url() + "/api-autopilot/" + guid + "/result").body,
            "\"ApprovalMode\"");
  std::string out;
  ASSERT_EQ(server_->RunCommand({"request", "approve", guid}, &out), 0) << out;
  json last;
  Follow(guid, &last);
  EXPECT_EQ(last["state"], "completed") << last.dump();
  EXPECT_THAT(Http("GET", sim_->url() + "/_sim/devices").body, HasSubstr("\"groupTag\":\"Lab-7\""));
}

TEST_F(HooksTest, AutoApprovalImportsWithoutAPersonWithTheFunctionsTag) {
  functions_.Script("validate", {200, "true", {}});
  functions_.Script("grouptag", {200, "Kiosk-Auto", {}});
  functions_.Script("autoapproval", {200, "TRUE", {}});
  StartSim();
  StartServer(FunctionsConfig());
  HttpResult r = SubmitV1("PF5FN002");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(Body(r)["state"], "approved");
  json last;
  Follow(Body(r)["id"], &last);
  EXPECT_EQ(last["state"], "completed") << last.dump() << Problems();
  EXPECT_THAT(Http("GET", sim_->url() + "/_sim/devices").body,
              HasSubstr("\"groupTag\":\"Kiosk-Auto\""));
  EXPECT_THAT(server_->log(), HasSubstr("SYSTEM (AutoApproval)"));
}

TEST_F(HooksTest, ARefusalStoresNothingAndTellsTheDeviceWhy) {
  functions_.Script("validate", {200, "Serial not in the asset register", {}});
  StartSim();
  StartServer(FunctionsConfig());
  HttpResult r = SubmitV1("PF5FN003");
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(Body(r)["error"]["code"], "device_not_allowed");
  EXPECT_EQ(Body(r)["error"]["message"], "Device not allowed: Serial not in the asset register");
  EXPECT_THAT(functions_.functions(), ElementsAre("validate"));
  // The old client gets the original's 400 with the reason.
  const std::string guid = "3f2504e0-4f89-11d3-9a0c-0305e82c33a3";
  json compat = {{"Id", guid},
                 {"SerialNumber", "PF5FN003"},
                 {"HardwareHash", LaptopHash("PF5FN003")},
                 {"Manufacturer", "LENOVO"},
                 {"Model", "21R3001BUK"},
                 {"Action", "IMPORT"}};
  HttpResult old = Http("POST", server_->url() + "/api-autopilot/" + guid + "/save-information",
                        compat.dump(), kJson);
  EXPECT_EQ(old.status, 400);
  EXPECT_EQ(old.body, "\"Device not allowed: Serial not in the asset register\"");
  EXPECT_EQ(Http("GET", server_->url() + "/api-autopilot/" + guid + "/result").status, 404);
}

TEST_F(HooksTest, ATimeoutOrA500RefusesUnderTheRefusePolicy) {
  functions_.Script("validate", {200, "true", 4s});
  StartSim();
  StartServer(FunctionsConfig("FunctionTimeoutSeconds = 1\n"));
  auto start = std::chrono::steady_clock::now();
  HttpResult slow = SubmitV1("PF5FN004");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  EXPECT_EQ(slow.status, 503) << slow.body;
  EXPECT_EQ(Body(slow)["error"]["code"], "validation_unavailable");
  EXPECT_EQ(slow.Header("retry-after"), "60");
  functions_.Script("validate", {500, "true", {}});
  HttpResult failing = SubmitV1("PF5FN004");
  EXPECT_EQ(failing.status, 503) << failing.body;
  EXPECT_THAT(functions_.functions(), ElementsAre("validate", "validate"));
  EXPECT_THAT(server_->log(), HasSubstr("answered HTTP 500"));
}

TEST_F(HooksTest, ATimeoutOrA500WaitsForAnApproverUnderTheWaitPolicy) {
  functions_.Script("validate", {500, "", {}});
  functions_.Script("grouptag", {200, "Shared", 3s});
  StartSim();
  StartServer(FunctionsConfig("FunctionTimeoutSeconds = 1\nFunctionFailurePolicy = \"wait\"\n"));
  HttpResult r = SubmitV1("PF5FN005");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(Body(r)["state"], "pending_approval");
  // Auto-approval is not asked about a device nobody validated; an approver decides.
  EXPECT_THAT(functions_.functions(), ElementsAre("validate", "grouptag"));
  std::string id = Body(r)["id"];
  Approve(id);
  json last;
  Follow(id, &last);
  EXPECT_EQ(last["state"], "completed") << last.dump();
}

}  // namespace
}  // namespace apm::itest
