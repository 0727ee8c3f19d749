// The notifier on a real SQLite store (whose triggers write the events) with scripted channels:
// what is sent, signed how, and what a failure does.
#include "server/notify/notifier.h"

#include <gtest/gtest.h>

#include <deque>
#include <nlohmann/json.hpp>
#include <thread>

#include "server/config.h"
#include "server/notify/event_messages.h"
#include "server/store/sql_request_store.h"
#include "server/store/testing/pending_request.h"
#include "server/store/testing/store_backend.h"
#include "server/testing/scripted_http.h"
#include "server/testing/temp_dir.h"

namespace apm {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

constexpr char kSecret[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

TEST(StandardWebhookSignature, MatchesTheSpecsTestVector) {
  Result<std::string> sig = StandardWebhookSignature(kSecret, "msg_p5jXN8AQM9LWM0D4loKWxJek",
                                                     1614265330, R"({"test": 2432232314})");
  ASSERT_TRUE(sig.ok()) << sig.status().ToString();
  EXPECT_EQ(*sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  EXPECT_FALSE(StandardWebhookSignature("whsec_", "id", 1, "").ok());
}

// On both backends: the outbox is the database's triggers as much as our code.
class NotifierTest : public ::testing::TestWithParam<testing::Backend> {
 protected:
  void SetUp() override {
    auto opened = db_.Open();
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
    settings_.webhook_url = "https://receiver.example.net/apm";
    settings_.webhook_secret = kSecret;
    settings_.webhook_events = {"waiting", "approved", "rejected", "completed", "failed"};
    settings_.teams_url = "https://prod-01.westeurope.logic.azure.com/workflows/x";
    settings_.teams_events = {"waiting", "failed"};
    settings_.public_url = "https://apm.contoso.com";
  }
  Notifier& notifier() {
    if (!notifier_) {
      notifier_ = std::make_unique<Notifier>(settings_, *store_, *store_, http_, clock_);
    }
    return *notifier_;
  }
  std::string Create(const std::string& serial) {
    StoredRequest r = testing::PendingRequest("id-" + serial, serial, "192.0.2.7", clock_.NowMs());
    EXPECT_EQ(store_->Create(r, 100, "")->kind, CreateOutcome::Kind::kCreated);
    return r.id;
  }
  void Reject(const std::string& id) {
    RequestState from[] = {RequestState::kPendingApproval};
    ASSERT_TRUE(store_
                    ->Transition(id, from, RequestState::kRejected, "Rejected",
                                 RequestError{0, "Rejected", "not ours"}, clock_.NowMs())
                    .ok());
  }
  std::vector<std::string> Urls() const {
    std::vector<std::string> out;
    for (const OutboundRequest& c : http_.calls) out.push_back(c.url);
    return out;
  }

  testing::TestDatabase db_{GetParam()};
  ManualClock clock_;
  std::unique_ptr<SqlRequestStore> store_;
  testing::ScriptedHttp http_;
  NotifierSettings settings_;
  std::unique_ptr<Notifier> notifier_;
};

INSTANTIATE_TEST_SUITE_P(Backends, NotifierTest,
                         ::testing::Values(testing::Backend::kSqlite, testing::Backend::kPostgres),
                         testing::BackendName);

TEST_P(NotifierTest, EachStateChangeReachesTheChannelsThatWantIt) {
  std::string id = Create("PF5NT001");
  EXPECT_EQ(notifier().RunOnce(), 2);  // waiting: webhook and Teams
  Reject(id);
  EXPECT_EQ(notifier().RunOnce(), 1);  // rejected: the webhook only
  EXPECT_EQ(notifier().RunOnce(), 0);  // nothing twice
  ASSERT_EQ(http_.calls.size(), 3u);
  EXPECT_EQ(notifier().delivered(), 3u);
  EXPECT_EQ(notifier().waiting(), 0);

  // The webhook: a structured CloudEvent, signed over exactly the bytes sent.
  size_t hook = http_.calls[0].url == settings_.webhook_url ? 0 : 1;
  const OutboundRequest& waiting = http_.calls[hook];
  EXPECT_EQ(http_.Header(hook, "Content-Type"), "application/cloudevents+json; charset=UTF-8");
  json event = json::parse(waiting.body);
  EXPECT_EQ(event["specversion"], "1.0");
  EXPECT_EQ(event["type"], "com.autopilotmanager.request.waiting");
  EXPECT_EQ(event["source"], "https://apm.contoso.com");
  EXPECT_EQ(event["subject"], "PF5NT001");
  EXPECT_EQ(event["data"]["requestUrl"], "https://apm.contoso.com/autopilot/" + id);
  EXPECT_EQ(event["data"]["clientAddress"], "192.0.2.7");
  EXPECT_EQ(http_.Header(hook, "webhook-id"), event["id"]);
  EXPECT_EQ(http_.Header(hook, "webhook-timestamp"), std::to_string(clock_.NowMs() / 1000));
  EXPECT_EQ(http_.Header(hook, "webhook-signature"),
            *StandardWebhookSignature(kSecret, http_.Header(hook, "webhook-id"),
                                      clock_.NowMs() / 1000, waiting.body));
  json rejected = json::parse(http_.calls[2].body);
  EXPECT_EQ(rejected["type"], "com.autopilotmanager.request.rejected");
  EXPECT_EQ(rejected["data"]["error"]["message"], "not ours");
  EXPECT_NE(rejected["id"], event["id"]);

  // Teams: the Workflows template's message with one Adaptive Card and a link.
  json teams = json::parse(http_.calls[1 - hook].body);
  EXPECT_EQ(teams["type"], "message");
  ASSERT_EQ(teams["attachments"].size(), 1u);
  EXPECT_EQ(teams["attachments"][0]["contentType"], "application/vnd.microsoft.card.adaptive");
  const json& card = teams["attachments"][0]["content"];
  EXPECT_EQ(card["version"], "1.4");
  EXPECT_EQ(card["body"][0]["text"], "A device waits for approval");
  EXPECT_EQ(card["actions"][0]["url"], "https://apm.contoso.com/autopilot/" + id);
  EXPECT_NE(teams.dump().find("192.0.2.7"), std::string::npos);
}

TEST_P(NotifierTest, AFailureIsRetriedOnTheScheduleWithTheSameId) {
  settings_.teams_url.clear();
  Create("PF5NT002");
  http_.statuses = {500, 503};
  EXPECT_EQ(notifier().RunOnce(), 1);
  EXPECT_EQ(notifier().RunOnce(), 0);  // not due yet
  EXPECT_EQ(notifier().waiting(), 1);
  clock_.Advance(5s);
  EXPECT_EQ(notifier().RunOnce(), 1);  // failed again: next in 5 minutes
  clock_.Advance(299s);
  EXPECT_EQ(notifier().RunOnce(), 0);
  clock_.Advance(1s);
  EXPECT_EQ(notifier().RunOnce(), 1);
  ASSERT_EQ(http_.calls.size(), 3u);
  EXPECT_EQ(http_.Header(0, "webhook-id"), http_.Header(2, "webhook-id"));
  EXPECT_NE(http_.Header(0, "webhook-timestamp"), http_.Header(2, "webhook-timestamp"));
  EXPECT_EQ(http_.calls[0].body, http_.calls[2].body);
  EXPECT_EQ(notifier().delivered(), 1u);
  EXPECT_EQ(notifier().failed_attempts(), 2u);
  EXPECT_EQ(notifier().waiting(), 0);
}

TEST_P(NotifierTest, RetryAfterIsHonouredAnd410GivesUp) {
  settings_.teams_url.clear();
  Create("PF5NT003");
  http_.statuses = {429};
  http_.retry_after = "120";
  notifier().RunOnce();
  clock_.Advance(119s);
  EXPECT_EQ(notifier().RunOnce(), 0);
  clock_.Advance(1s);
  http_.retry_after.clear();
  http_.statuses = {410};
  EXPECT_EQ(notifier().RunOnce(), 1);
  clock_.Advance(24h);
  EXPECT_EQ(notifier().RunOnce(), 0);
  EXPECT_EQ(notifier().given_up(), 1u);
  EXPECT_EQ(notifier().waiting(), 0);
}

TEST_P(NotifierTest, TheTenthFailedAttemptIsTheLast) {
  settings_.teams_url.clear();
  Create("PF5NT006");
  http_.statuses = std::deque<int>(10, 502);
  int attempts = 0;
  for (int i = 0; i < 12; ++i) {
    attempts += notifier().RunOnce();
    clock_.Advance(std::chrono::milliseconds(std::max<int64_t>(Notifier::RetryDelayMs(i + 1), 1)));
  }
  EXPECT_EQ(attempts, 10);
  EXPECT_EQ(notifier().given_up(), 1u);
  EXPECT_EQ(notifier().delivered(), 0u);
  EXPECT_EQ(Notifier::RetryDelayMs(9), 86'400'000);
  EXPECT_EQ(Notifier::RetryDelayMs(10), -1);
  // Given up deliveries and their events are purged with old events.
  ASSERT_TRUE(store_->PurgeEventsBefore(clock_.NowMs() + 1).ok());
  EXPECT_EQ(*store_->WaitingEventDeliveries(), 0);
  EXPECT_TRUE(store_->DueEventDeliveries(clock_.NowMs() + 1, 10)->empty());
}

TEST_P(NotifierTest, AnInstanceWithoutTheLeaseSendsNothing) {
  settings_.teams_url.clear();
  Create("PF5NT007");
  bool lease = false;
  notifier().Start([&] { return lease; });
  std::this_thread::sleep_for(1500ms);
  notifier().Stop();
  EXPECT_TRUE(http_.calls.empty());
}

TEST_P(NotifierTest, TeamsCardsDoNotTurnDeviceTextIntoLinks) {
  settings_.webhook_url.clear();
  StoredRequest r = testing::PendingRequest("id-PF5NT008", "[Approve here](https://evil.example)",
                                            "192.0.2.7", clock_.NowMs());
  ASSERT_EQ(store_->Create(r, 100, "")->kind, CreateOutcome::Kind::kCreated);
  notifier().RunOnce();
  ASSERT_EQ(http_.calls.size(), 1u);
  EXPECT_EQ(http_.calls[0].body.find("](https://evil"), std::string::npos);
  EXPECT_NE(http_.calls[0].body.find("[Approve here] (https://evil.example)"), std::string::npos);
}

TEST_P(NotifierTest, OldEventsAndPurgedRequestsAreNotSent) {
  Create("PF5NT004");
  clock_.Advance(2h);  // notifications switched on later: an old event is no news
  EXPECT_EQ(notifier().RunOnce(), 0);
  EXPECT_TRUE(http_.calls.empty());
  // A delivery whose request is gone is dropped.
  Create("PF5NT005");
  Reject("id-PF5NT005");
  ASSERT_TRUE(store_->PurgeFinishedBefore(clock_.NowMs() + 1).ok());
  EXPECT_EQ(notifier().RunOnce(), 3);  // tried, found gone
  EXPECT_TRUE(http_.calls.empty());
  EXPECT_EQ(notifier().waiting(), 0);
}

TEST(NotificationSettings, NameWhatIsWrong) {
  Config c;
  EXPECT_TRUE(ValidateNotificationSettings(c).ok());
  c.NotificationWebhookUrl = "https://receiver.example.net/apm";
  EXPECT_NE(ValidateNotificationSettings(c).message().find("NotificationWebhookSecret"),
            std::string::npos);
  c.NotificationWebhookSecret = "whsec_c2hvcnQ=";  // 5 bytes
  EXPECT_FALSE(ValidateNotificationSettings(c).ok());
  c.NotificationWebhookSecret = kSecret;
  EXPECT_TRUE(ValidateNotificationSettings(c).ok());
  c.NotificationWebhookEvents = {"waiting", "approve"};
  EXPECT_EQ(ValidateNotificationSettings(c).message(),
            "NotificationWebhookEvents: \"approve\" is not an event (waiting, approved, rejected, "
            "removing_registration, completed, failed, expired, not_allowed)");
  c.NotificationWebhookEvents = {"waiting"};
  c.NotificationTeamsUrl = "https://contoso.webhook.office.com/webhookb2/x";
  EXPECT_NE(ValidateNotificationSettings(c).message().find("Workflows"), std::string::npos);
  c.NotificationTeamsUrl = "http://prod-01.westeurope.logic.azure.com/x";
  EXPECT_FALSE(ValidateNotificationSettings(c).ok());
}

}  // namespace
}  // namespace apm
