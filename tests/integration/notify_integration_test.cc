// Event notifications end to end: the real apm-server and apm-tenant-sim, and a local receiver
// for the webhook and the Teams workflow. Signatures are checked by Python's hmac, not by our
// code.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <set>

#include "import_fixture.h"
#include "recording_receiver.h"

namespace apm::itest {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

constexpr char kSecret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

// Verifies a Standard Webhooks signature as a receiver would, with Python's standard library.
bool PythonVerifies(const RecordingReceiver::Call& call, std::string* why) {
  std::string dir = ::testing::TempDir();
  std::string body_path = dir + "apm-webhook-body";
  std::ofstream(body_path, std::ios::binary) << call.body;
  std::string script =
      "import base64, hashlib, hmac, sys\n"
      "secret, msg_id, ts, sigs, path = sys.argv[1:]\n"
      "key = base64.b64decode(secret.split('_', 1)[1])\n"
      "body = open(path, 'rb').read()\n"
      "mac = hmac.new(key, msg_id.encode() + b'.' + ts.encode() + b'.' + body, "
      "hashlib.sha256).digest()\n"
      "ok = any(s.startswith('v1,') and hmac.compare_digest(base64.b64decode(s[3:]), mac)\n"
      "         for s in sigs.split(' '))\n"
      "sys.exit(0 if ok else 1)\n";
  std::string script_path = dir + "apm-verify-webhook.py";
  std::ofstream(script_path) << script;
  auto header = [&](const char* name) {
    auto it = call.headers.find(name);
    return it == call.headers.end() ? std::string() : it->second;
  };
  std::string command = "python3 " + script_path + " '" + kSecret + "' '" + header("webhook-id") +
                        "' '" + header("webhook-timestamp") + "' '" + header("webhook-signature") +
                        "' " + body_path;
  int rc = std::system(command.c_str());
  if (rc != 0) *why = "python3 rejected: " + command;
  return rc == 0;
}

class NotifyTest : public ImportTest {
 protected:
  void SetUp() override { ASSERT_TRUE(receiver_.Start()); }
  std::string NotifyConfig() const {
    return "NotificationWebhookUrl = \"" + receiver_.url() +
           "/webhook\"\n"
           "NotificationWebhookSecret = \"" +
           kSecret +
           "\"\n"
           "NotificationTeamsUrl = \"" +
           receiver_.url() +
           "/teams\"\n"
           "PublicUrl = \"http://127.0.0.1\"\n"
           "ClientSecret = \"simulator-secret\"\n";
  }
  // The calls to `channel` once `n` of them were answered 2xx (or what came within `limit`).
  std::vector<RecordingReceiver::Call> Delivered(const std::string& channel, size_t n,
                                                 std::chrono::seconds limit = 30s) {
    auto end = std::chrono::steady_clock::now() + limit;
    std::vector<RecordingReceiver::Call> ok;
    while (std::chrono::steady_clock::now() < end) {
      ok.clear();
      for (const auto& c : receiver_.calls()) {
        if (c.function == channel && c.status >= 200 && c.status < 300) ok.push_back(c);
      }
      if (ok.size() >= n) break;
      std::this_thread::sleep_for(100ms);
    }
    return ok;
  }
  RecordingReceiver receiver_;
};

TEST_F(NotifyTest, EachEventIsDeliveredOnceToAReceiverThatFailsItsFirstAnswers) {
  receiver_.Script("webhook", {204, "", {}});
  receiver_.Script("teams", {202, "", {}});
  receiver_.FailFirstAttemptOfEachEvent();  // each webhook event: 503, then 5 s later 204
  StartSim();
  StartServer(NotifyConfig());
  std::string id = Submit("PF5NOT01");
  Approve(id);
  json last;
  Follow(id, &last);
  ASSERT_EQ(last["state"], "completed") << last.dump();
  std::vector<RecordingReceiver::Call> hooks = Delivered("webhook", 3);
  ASSERT_EQ(hooks.size(), 3u) << Problems();
  std::vector<std::string> types;
  std::set<std::string> ids;
  for (const auto& call : hooks) {
    json event = json::parse(call.body);
    types.push_back(event["type"]);
    ids.insert(call.headers.at("webhook-id"));
    EXPECT_EQ(event["id"], call.headers.at("webhook-id"));
    EXPECT_EQ(event["data"]["requestId"], id);
    std::string why;
    EXPECT_TRUE(PythonVerifies(call, &why)) << why;
  }
  EXPECT_THAT(types, ::testing::UnorderedElementsAre("com.autopilotmanager.request.waiting",
                                                     "com.autopilotmanager.request.approved",
                                                     "com.autopilotmanager.request.completed"));
  EXPECT_EQ(ids.size(), 3u);  // each once
  // Every event was refused once and sent again with the same id.
  size_t refused = 0;
  for (const auto& call : receiver_.calls()) {
    if (call.function != "webhook" || call.status != 503) continue;
    ++refused;
    EXPECT_TRUE(ids.count(call.headers.at("webhook-id")));
  }
  EXPECT_EQ(refused, 3u);
  // Teams: the waiting event only (its default events are waiting and failed).
  std::vector<RecordingReceiver::Call> teams = Delivered("teams", 1, 1s);
  ASSERT_EQ(teams.size(), 1u);
  EXPECT_THAT(teams[0].body, HasSubstr("A device waits for approval"));
  EXPECT_THAT(teams[0].body, HasSubstr("http://127.0.0.1/autopilot/" + id));
  std::string metrics = Http("GET", server_->url() + "/metrics").body;
  EXPECT_THAT(metrics, HasSubstr("\napm_notifications_delivered_total 4\n"));
  EXPECT_THAT(metrics, HasSubstr("\napm_notifications_failed_attempts_total 3\n"));
}

TEST_F(NotifyTest, AFailingTeamsWorkflowNeverPutsItsCredentialInTheLog) {
  receiver_.Script("teams", {500, "", {}});
  StartSim();
  StartServer("NotificationTeamsUrl = \"" + receiver_.url() +
              "/teams?api-version=1&sp=%2Ftriggers&sig=TopSecretSignature\"\n"
              "ClientSecret = \"simulator-secret\"\n");
  Submit("PF5NOT03");
  ASSERT_TRUE(server_->WaitForLog("notification not delivered")) << server_->log();
  EXPECT_EQ(receiver_.calls().size(), 1u);
  EXPECT_THAT(server_->log(), ::testing::Not(HasSubstr("TopSecretSignature")));
}

TEST_F(NotifyTest, KilledBetweenDeliveryAndAcknowledgementItIsSentAgainWithTheSameId) {
  receiver_.Script("webhook", {204, "", 3s});  // answers late: the server dies before
  StartSim();
  StartServer(NotifyConfig() + "NotificationTeamsEvents = []\n");
  std::string id = Submit("PF5NOT02");
  auto end = std::chrono::steady_clock::now() + 20s;
  while (receiver_.calls().empty() && std::chrono::steady_clock::now() < end) {
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_EQ(receiver_.calls().size(), 1u);
  server_->Kill9();
  receiver_.Script("webhook", {204, "", {}});
  ASSERT_TRUE(server_->Start()) << server_->log();
  std::vector<RecordingReceiver::Call> calls;
  end = std::chrono::steady_clock::now() + 20s;
  while ((calls = receiver_.calls()).size() < 2 && std::chrono::steady_clock::now() < end) {
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].headers.at("webhook-id"), calls[1].headers.at("webhook-id"));
  EXPECT_EQ(calls[0].body, calls[1].body);
  EXPECT_THAT(calls[1].body, HasSubstr(id));
  std::string why;
  EXPECT_TRUE(PythonVerifies(calls[1], &why)) << why;
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(receiver_.calls().size(), 2u);  // acknowledged now: not a third time
}

}  // namespace
}  // namespace apm::itest

namespace apm::itest {
namespace {

class AuditExportTest : public ImportTest {
 protected:
  json Received() { return Body(Http("GET", sim_->url() + "/_sim/logs")); }
};

TEST_F(AuditExportTest, EveryAuditEventReachesLogsIngestionInOrderWithoutTheHash) {
  StartSim();
  StartServer(
      "UseLogAnalytics = true\n"
      "LogsIngestionEndpoint = \"" +
      sim_->url() +
      "\"\n"
      "LogsIngestionRuleId = \"dcr-000a00a000a00000a000000aa000a0aa\"\n"
      "ClientSecret = \"simulator-secret\"\n");
  // The first call (the start-up's "config" event) is taken, then one 413 and one 429.
  auto end = std::chrono::steady_clock::now() + 20s;
  while (Received()["calls"] < 1 && std::chrono::steady_clock::now() < end) {
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_EQ(Received()["calls"], 1) << Problems();
  ASSERT_EQ(Http("POST", sim_->url() + "/_sim/logs-faults",
                 R"({"tooLarge":1,"throttle":1,"retryAfter":1})", kJson)
                .status,
            200);
  const std::string hash = LaptopHash("PF5AUD01");
  std::string approved = Submit("PF5AUD01", hash);
  Approve(approved);
  std::string rejected = Submit("PF5AUD02");
  std::string out;
  ASSERT_EQ(server_->RunCommand({"request", "reject", rejected, "--reason", "not ours"}, &out), 0);
  json last;
  Follow(approved, &last);
  ASSERT_EQ(last["state"], "completed");
  json rows;
  end = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < end) {
    rows = Received()["rows"];
    if (rows.dump().find("\"reject\"") != std::string::npos) break;
    std::this_thread::sleep_for(200ms);
  }
  ASSERT_THAT(rows.dump(), HasSubstr("\"Action\":\"reject\"")) << rows.dump() << Problems();
  EXPECT_THAT(rows.dump(), HasSubstr("\"Action\":\"approve\""));
  // Every event, once, in order: the audit's sequence numbers without a gap.
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i]["Seq"], int64_t(i + 1)) << rows.dump();
    EXPECT_EQ(rows[i]["_rule"], "dcr-000a00a000a00000a000000aa000a0aa");
    EXPECT_EQ(rows[i]["_stream"], "Custom-AutopilotManagerAudit_CL");
  }
  // No part of the hash longer than a fingerprint (LogAnalyticsReportHardwareHash is off).
  for (size_t at = 0; at + 32 <= hash.size(); at += 16) {
    EXPECT_EQ(rows.dump().find(hash.substr(at, 32)), std::string::npos);
  }
  std::string metrics = Http("GET", server_->url() + "/metrics").body;
  EXPECT_THAT(metrics, HasSubstr("\napm_audit_export_failed_calls_total 2\n"));
  EXPECT_THAT(metrics, HasSubstr("\napm_audit_exported_total " + std::to_string(rows.size())));
}

}  // namespace
}  // namespace apm::itest
