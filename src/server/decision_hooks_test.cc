// The decision functions: the wire format the original's functions expect, how answers are
// read, and what each answer does to a submission (a real SQLite store, scripted functions).
#include "server/decision_hooks.h"

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "core/guid.h"
#include "core/testing/hash_builder.h"
#include "server/approval_service.h"
#include "server/intake_service.h"
#include "server/store/sql_request_store.h"
#include "server/testing/temp_dir.h"

namespace apm {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

// Functions answering from a script, by function name; every call is kept.
class ScriptedFunctions : public OutboundHttp {
 public:
  struct Answer {
    int status = 200;
    std::string body;
    Status error = Status::Ok();  // not Ok: no answer at all
  };
  Result<OutboundResponse> Send(const OutboundRequest& request, SendReport*) override {
    calls.push_back(request);
    std::string name = request.url.substr(request.url.rfind('/') + 1);
    auto it = answers.find(name);
    Answer a = it == answers.end() ? Answer{404, "", Status::Ok()} : it->second;
    if (!a.error.ok()) return a.error;
    OutboundResponse response;
    response.status = a.status;
    response.body = a.body;
    return response;
  }
  std::vector<std::string> Names() const {
    std::vector<std::string> out;
    for (const OutboundRequest& c : calls) out.push_back(c.url.substr(c.url.rfind('/') + 1));
    return out;
  }
  json Body(size_t i) const { return json::parse(calls.at(i).body); }
  std::map<std::string, Answer> answers;
  std::vector<OutboundRequest> calls;
};

Config FunctionsConfig() {
  Config c;
  c.AzureFunctionsUrl = "https://apm-functions.example.net/api";
  c.UseValidationFunction = c.UseGroupTagFunction = c.UseAutoApprovalFunction = true;
  c.ValidationFunctionKey = "validate-key";
  c.GroupTagFunctionKey = "";
  c.AutoApprovalFunctionKey = "approve-key";
  return c;
}

std::string Header(const OutboundRequest& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "<absent>";
}

TEST(HookBody, IsTheOriginalsByteForByte) {
  HookDevice d{"6f1c2b4a-0d3e-4f5a-8b6c-7d8e9f0a1b2c",
               "ABC123",
               "T0FN",
               "Dell Inc.",
               "Latitude 5440",
               std::nullopt,
               "IMPORT",
               1795860902000};  // 2026-11-28 10:15:02 UTC
  EXPECT_EQ(
      HookBody(d),
      R"({"Id":"6f1c2b4a-0d3e-4f5a-8b6c-7d8e9f0a1b2c","SerialNumber":"ABC123",)"
      R"("HardwareHash":"T0FN","Manufacturer":"Dell Inc.","Model":"Latitude 5440",)"
      R"("GroupTag":null,"Comment":null,"Action":"IMPORT","RequestTime":"11/28/2026 10:15:02"})");
  d.group_tag = "Kiosk";
  EXPECT_NE(HookBody(d).find(R"("GroupTag":"Kiosk","Comment":null)"), std::string::npos);
}

TEST(HookRequestGuid, KeepsAClientsGuidAndDerivesAStableOneFromOurIds) {
  EXPECT_EQ(HookRequestGuid("6f1c2b4a-0d3e-4f5a-8b6c-7d8e9f0a1b2c"),
            "6f1c2b4a-0d3e-4f5a-8b6c-7d8e9f0a1b2c");
  std::string id = NewRequestId();
  std::string guid = HookRequestGuid(id);
  EXPECT_TRUE(IsGuid(guid)) << guid;
  EXPECT_EQ(guid[14], '8');  // version 8
  EXPECT_NE(std::string("89ab").find(guid[19]), std::string::npos);
  EXPECT_EQ(HookRequestGuid(id), guid);
  EXPECT_NE(HookRequestGuid(NewRequestId()), guid);
}

TEST(HookAnswerText, TrimsBlanksThenQuotesThenBlanks) {
  EXPECT_EQ(HookAnswerText("true"), "true");
  EXPECT_EQ(HookAnswerText(" \"true\"\r\n"), "true");
  EXPECT_EQ(HookAnswerText("\"  Kiosk  \""), "Kiosk");
  EXPECT_EQ(HookAnswerText("\"\""), "");
  EXPECT_EQ(HookAnswerText("not \"quoted\" inside"), "not \"quoted\" inside");
}

TEST(DecisionHooks, CallsTheOriginalsUrlsWithTheKeyOnlyWhenSet) {
  Config c = FunctionsConfig();
  ScriptedFunctions f;
  f.answers["validate"] = {200, "\"TRUE\""};
  f.answers["grouptag"] = {200, "Kiosk"};
  DecisionHooks hooks(c, f);
  HookDevice d{"6f1c2b4a-0d3e-4f5a-8b6c-7d8e9f0a1b2c", "S", "T0FN", "M", "X", {}, "IMPORT", 0};
  auto deadline = std::chrono::steady_clock::now() + 25s;
  HookAnswer v = hooks.Call(DecisionHook::kValidate, d, deadline);
  EXPECT_EQ(v.kind, HookAnswer::Kind::kYes);
  c.AzureFunctionsUrl += "/";  // a trailing slash is not doubled
  HookAnswer g = hooks.Call(DecisionHook::kGroupTag, d, deadline);
  EXPECT_EQ(g.kind, HookAnswer::Kind::kYes);
  EXPECT_EQ(g.text, "Kiosk");
  ASSERT_EQ(f.calls.size(), 2u);
  EXPECT_EQ(f.calls[0].method, "POST");
  EXPECT_EQ(f.calls[0].url, "https://apm-functions.example.net/api/validate");
  EXPECT_EQ(f.calls[1].url, "https://apm-functions.example.net/api/grouptag");
  EXPECT_EQ(Header(f.calls[0], "x-functions-key"), "validate-key");
  EXPECT_EQ(Header(f.calls[1], "x-functions-key"), "<absent>");
  EXPECT_EQ(Header(f.calls[0], "Content-Type"), "application/json; charset=utf-8");
  EXPECT_EQ(Header(f.calls[0], "Accept"), "application/json");
  EXPECT_EQ(f.calls[0].timeout, 10s);
}

TEST(DecisionHooks, AnythingButTrueIsNoAndAnythingButAnAnswerIsAFailure) {
  Config c = FunctionsConfig();
  c.FunctionTimeoutSeconds = 3;
  ScriptedFunctions f;
  DecisionHooks hooks(c, f);
  HookDevice d;
  auto deadline = std::chrono::steady_clock::now() + 25s;
  f.answers["validate"] = {200, "false"};
  EXPECT_EQ(hooks.Call(DecisionHook::kValidate, d, deadline).kind, HookAnswer::Kind::kNo);
  f.answers["validate"] = {200, "yes"};
  EXPECT_EQ(hooks.Call(DecisionHook::kValidate, d, deadline).kind, HookAnswer::Kind::kNo);
  f.answers["validate"] = {500, "true"};
  HookAnswer failed = hooks.Call(DecisionHook::kValidate, d, deadline);
  EXPECT_EQ(failed.kind, HookAnswer::Kind::kFailed);
  EXPECT_EQ(failed.text, "answered HTTP 500");
  f.answers["validate"] = {0, "", Status(StatusCode::kDeadlineExceeded, "timed out")};
  failed = hooks.Call(DecisionHook::kValidate, d, deadline);
  EXPECT_EQ(failed.kind, HookAnswer::Kind::kFailed);
  EXPECT_EQ(failed.text, "no answer within 3000 ms");
  EXPECT_EQ(f.calls.back().timeout, 3s);
  // The submission's budget caps the call; with none left nothing is sent.
  hooks.Call(DecisionHook::kValidate, d, std::chrono::steady_clock::now() + 1500ms);
  EXPECT_LE(f.calls.back().timeout, 1500ms);
  EXPECT_GT(f.calls.back().timeout, 1000ms);
  size_t sent = f.calls.size();
  EXPECT_EQ(hooks.Call(DecisionHook::kValidate, d, std::chrono::steady_clock::now()).kind,
            HookAnswer::Kind::kFailed);
  EXPECT_EQ(f.calls.size(), sent);
}

TEST(DecisionHookSettings, NameWhatIsWrong) {
  Config c = FunctionsConfig();
  EXPECT_TRUE(ValidateDecisionHookSettings(c).ok());
  c.AzureFunctionsUrl = "";
  EXPECT_EQ(ValidateDecisionHookSettings(c).message(),
            "AzureFunctionsUrl is required when a Use…Function setting is true");
  c.AzureFunctionsUrl = "http://functions.example.net/api";
  EXPECT_NE(ValidateDecisionHookSettings(c).message().find("https://"), std::string::npos);
  c.AzureFunctionsUrl = "http://127.0.0.1:7071/api";
  EXPECT_TRUE(ValidateDecisionHookSettings(c).ok());
  for (const char* elsewhere : {"http://localhost.example.net/api",
                                "http://localhost:1@example.net/", "http://127.0.0.1:80x/api"}) {
    c.AzureFunctionsUrl = elsewhere;
    EXPECT_FALSE(ValidateDecisionHookSettings(c).ok()) << elsewhere;
  }
  c.AzureFunctionsUrl = "https://f.example.net/api?code=secret";
  EXPECT_NE(ValidateDecisionHookSettings(c).message().find("query"), std::string::npos);
  c = FunctionsConfig();
  c.FunctionTimeoutSeconds = 26;
  EXPECT_EQ(ValidateDecisionHookSettings(c).message(),
            "FunctionTimeoutSeconds must be between 1 and 25");
  c = FunctionsConfig();
  c.FunctionFailurePolicy = "ignore";
  EXPECT_EQ(ValidateDecisionHookSettings(c).message(),
            "FunctionFailurePolicy must be refuse or wait");
}

// Submissions through IntakeService with the functions on.
class IntakeWithFunctionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::move(SqlRequestStore::Open(dir_.File("apm.db"))).value();
    approvals_ = std::make_unique<ApprovalService>(config_, *store_, clock_, store_.get());
    intake_ = std::make_unique<IntakeService>(config_, *store_, clock_, limiter_);
    intake_->UseDecisionHooks(&hooks_, approvals_.get(), store_.get());
  }
  IntakeResult Submit(const std::string& serial, bool bypass = false,
                      ApprovalAction action = ApprovalAction::kImport) {
    DeviceSubmission s;
    s.serial_number = serial;
    s.manufacturer = "LENOVO";
    s.model = "21R3001BUK";
    s.hardware_hash = testing::HashText(testing::HashBuilder::Laptop(serial).Build());
    return intake_->Submit(s, "192.0.2.7", "compat", "", action, bypass);
  }
  std::vector<std::string> Audit(const std::string& action) {
    AuditFilter f;
    f.action = action;
    std::vector<std::string> out;
    Result<std::vector<AuditEvent>> events = store_->ListAudit(f);
    EXPECT_TRUE(events.ok());
    if (events.ok()) {
      for (const AuditEvent& e : *events) out.push_back(e.detail);
    }
    return out;
  }

  testing::ScopedTempDir dir_{"apm-hooks-test"};
  Config config_ = FunctionsConfig();
  ManualClock clock_;
  std::unique_ptr<SqlRequestStore> store_;
  RateLimiter limiter_{clock_, 1000, 1000};
  ScriptedFunctions functions_;
  DecisionHooks hooks_{config_, functions_};
  std::unique_ptr<ApprovalService> approvals_;
  std::unique_ptr<IntakeService> intake_;
};

TEST_F(IntakeWithFunctionsTest, ARefusalStoresNothingAndShowsTheFunctionsReason) {
  functions_.answers["validate"] = {200, "\"not in the asset register\""};
  IntakeResult r = Submit("PF5HOOK1");
  EXPECT_EQ(r.kind, IntakeResult::Kind::kRefused);
  EXPECT_EQ(r.refusal_code, "device_not_allowed");
  EXPECT_EQ(r.refusal_message, "Device not allowed: not in the asset register");
  EXPECT_EQ(functions_.Names(), std::vector<std::string>{"validate"});
  EXPECT_TRUE(store_->List({}).value().empty());
  EXPECT_EQ(Audit("function_validate"),
            std::vector<std::string>{"serial PF5HOOK1, refused: not in the asset register"});
  // A bare "false" (and text no one should be shown) gives the original's words alone.
  functions_.answers["validate"] = {200, "false"};
  EXPECT_EQ(Submit("PF5HOOK1").refusal_message, "Device not allowed");
  functions_.answers["validate"] = {200, "bad\u0007bell"};
  EXPECT_EQ(Submit("PF5HOOK1").refusal_message, "Device not allowed");
}

TEST_F(IntakeWithFunctionsTest, TheProposedTagIsKeptAndAutoApprovalImportsWithIt) {
  functions_.answers["validate"] = {200, "true"};
  functions_.answers["grouptag"] = {200, "\"Lab-7\""};
  functions_.answers["autoapproval"] = {200, "true"};
  IntakeResult r = Submit("PF5HOOK2");
  ASSERT_EQ(r.kind, IntakeResult::Kind::kCreated);
  EXPECT_EQ(r.request.state, RequestState::kApproved);
  EXPECT_EQ(r.request.proposed_group_tag, "Lab-7");
  EXPECT_EQ(r.request.function_validation, "passed");
  EXPECT_EQ(functions_.Names(), (std::vector<std::string>{"validate", "grouptag", "autoapproval"}));
  // The original's order: validate sees no tag, auto-approval sees the proposed one; all three
  // carry the same GUID for the request.
  EXPECT_TRUE(functions_.Body(0)["GroupTag"].is_null());
  EXPECT_EQ(functions_.Body(2)["GroupTag"], "Lab-7");
  EXPECT_EQ(functions_.Body(0)["Id"], functions_.Body(2)["Id"]);
  EXPECT_EQ(functions_.Body(0)["Id"], HookRequestGuid(r.request.id));
  EXPECT_EQ(functions_.Body(0)["Action"], "IMPORT");
  Result<ImportJob> job = store_->GetJob(r.request.id);
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  EXPECT_EQ(job->approval.group_tag, "Lab-7");
  EXPECT_EQ(job->approval.approver, "SYSTEM (AutoApproval)");
  EXPECT_EQ(Audit("function_autoapproval"), std::vector<std::string>{"answered true"});
}

TEST_F(IntakeWithFunctionsTest, WithoutAutoApprovalTheRequestWaitsWithItsProposedTag) {
  functions_.answers["validate"] = {200, "true"};
  functions_.answers["grouptag"] = {200, ""};
  functions_.answers["autoapproval"] = {200, "false"};
  IntakeResult r = Submit("PF5HOOK3");
  ASSERT_EQ(r.kind, IntakeResult::Kind::kCreated);
  EXPECT_EQ(r.request.state, RequestState::kPendingApproval);
  EXPECT_EQ(r.request.proposed_group_tag, "");
  EXPECT_EQ(Audit("function_grouptag"),
            std::vector<std::string>{"serial PF5HOOK3, proposed no tag"});
  EXPECT_EQ(Audit("function_autoapproval"),
            std::vector<std::string>{"declined: false; waits for a person"});
}

TEST_F(IntakeWithFunctionsTest, AFailedValidationRefusesUnderTheRefusePolicy) {
  for (const ScriptedFunctions::Answer& failure :
       {ScriptedFunctions::Answer{500, "true"},
        ScriptedFunctions::Answer{0, "", Status(StatusCode::kDeadlineExceeded, "timed out")},
        ScriptedFunctions::Answer{0, "", Status::Unavailable("connection refused")}}) {
    functions_.answers["validate"] = failure;
    IntakeResult r = Submit("PF5HOOK4");
    EXPECT_EQ(r.kind, IntakeResult::Kind::kDecisionUnavailable);
    EXPECT_NE(r.refusal_message.find("does not answer"), std::string::npos);
  }
  EXPECT_TRUE(store_->List({}).value().empty());
}

TEST_F(IntakeWithFunctionsTest, AFailedValidationWaitsForAnApproverUnderTheWaitPolicy) {
  config_.FunctionFailurePolicy = "wait";
  functions_.answers["validate"] = {0, "", Status(StatusCode::kDeadlineExceeded, "timed out")};
  functions_.answers["grouptag"] = {503, ""};
  functions_.answers["autoapproval"] = {200, "true"};
  IntakeResult r = Submit("PF5HOOK5");
  ASSERT_EQ(r.kind, IntakeResult::Kind::kCreated);
  EXPECT_EQ(r.request.state, RequestState::kPendingApproval);
  EXPECT_EQ(r.request.function_validation, "unanswered");
  // No auto-approval of a device nobody validated, and no self-service approval either.
  EXPECT_EQ(functions_.Names(), (std::vector<std::string>{"validate", "grouptag"}));
  Approval a;
  a.approver = "user@contoso.com";
  Result<StoredRequest> self = approvals_->Approve(r.request.id, a, {"oid", "192.0.2.7", false});
  EXPECT_EQ(self.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(self.status().message().find("did not answer"), std::string::npos);
  a.approver = "helpdesk@contoso.com";
  EXPECT_TRUE(approvals_->Approve(r.request.id, a, {"oid", "192.0.2.8", true}).ok());
}

TEST_F(IntakeWithFunctionsTest, BypassSkipsValidationAndAutoApprovalButNotTheGroupTag) {
  functions_.answers["validate"] = {200, "false"};
  functions_.answers["grouptag"] = {200, "Kiosk"};
  functions_.answers["autoapproval"] = {200, "true"};
  IntakeResult r = Submit("PF5HOOK6", /*bypass=*/true);
  ASSERT_EQ(r.kind, IntakeResult::Kind::kCreated);
  EXPECT_EQ(r.request.state, RequestState::kPendingApproval);
  EXPECT_EQ(r.request.function_validation, "bypassed");
  EXPECT_EQ(r.request.proposed_group_tag, "Kiosk");
  EXPECT_EQ(functions_.Names(), std::vector<std::string>{"grouptag"});
  EXPECT_EQ(functions_.Body(0)["Action"], "BYPASS");
  Approval a;
  a.approver = "user@contoso.com";
  EXPECT_EQ(approvals_->Approve(r.request.id, a, {"oid", "192.0.2.7", false}).status().code(),
            StatusCode::kPermissionDenied);
}

TEST_F(IntakeWithFunctionsTest, AutoApprovalNeverDoesWhatOnlyTheHelpdeskMay) {
  config_.AllowDeletionInApprovalMode = true;
  functions_.answers["validate"] = {200, "true"};
  functions_.answers["autoapproval"] = {200, "true"};
  IntakeResult r = Submit("PF5HOOK7", false, ApprovalAction::kRemoveManagedDevice);
  ASSERT_EQ(r.kind, IntakeResult::Kind::kCreated);
  EXPECT_EQ(functions_.Body(0)["Action"], "DELETE");
  EXPECT_EQ(r.request.state, RequestState::kPendingApproval);
  EXPECT_EQ(store_->Get(r.request.id)->state, RequestState::kPendingApproval);
  // Refused for who decides, not for anything else.
  AuditFilter f;
  f.action = "approve_denied";
  Result<std::vector<AuditEvent>> denied = store_->ListAudit(f);
  ASSERT_TRUE(denied.ok());
  ASSERT_EQ(denied->size(), 1u);
  EXPECT_NE(denied->front().detail.find("only the helpdesk"), std::string::npos)
      << denied->front().detail;
}

}  // namespace
}  // namespace apm
