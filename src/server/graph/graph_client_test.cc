#include "server/graph/graph_client.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "server/http/form.h"
#include "server/http/in_process_outbound_http.h"

namespace apm {
namespace {

using json = nlohmann::json;
using std::chrono::milliseconds;

// A Graph endpoint that answers from a script and records what it was asked.
class ScriptedGraph : public HttpHandler {
 public:
  struct Seen {
    std::string method;
    std::string target;
    std::string authorization;
    json body;
  };
  using Responder = std::function<StringResponse(const InboundRequest&)>;

  void Handle(InboundRequest req, Reply reply) override {
    std::string target(req.message.target());
    if (target.find("/oauth2/v2.0/token") != std::string::npos) {
      ++token_requests;
      token_form = req.message.body();
      return reply(Json(200, {{"token_type", "Bearer"},
                              {"expires_in", 3599},
                              {"access_token", "tok-" + std::to_string(token_requests)}}),
                   "token");
    }
    seen.push_back({std::string(req.message.method_string()), target,
                    std::string(req.message[http::field::authorization]),
                    json::parse(req.message.body(), nullptr, false)});
    if (!script.empty()) {
      Responder r = std::move(script.front());
      script.pop_front();
      return reply(r(req), "scripted");
    }
    reply(Json(404, {{"error", {{"code", "NotFound"}, {"message", "unscripted"}}}}), "none");
  }

  static StringResponse Json(int status, const json& body,
                             std::map<std::string, std::string> headers = {}) {
    StringResponse res{http::status(status), 11};
    res.set(http::field::content_type, "application/json");
    for (const auto& [k, v] : headers) res.set(k, v);
    if (!body.is_null()) res.body() = body.dump();  // 204 answers carry no body
    res.prepare_payload();
    return res;
  }
  void Then(int status, json body, std::map<std::string, std::string> headers = {}) {
    script.push_back([=](const InboundRequest&) { return Json(status, body, headers); });
  }

  std::deque<Responder> script;
  std::vector<Seen> seen;
  int token_requests = 0;
  std::string token_form;
};

class GraphClientTest : public ::testing::Test {
 protected:
  GraphClientTest() : http_(graph_) {
    AppCredentials c;
    c.login_endpoint = "https://login.example";
    c.tenant = "contoso.example";
    c.client_id = "app-1";
    c.client_secret = "s3cret&=";
    tokens_ = std::move(ClientCredentialsTokenSource::Create(c, http_, clock_)).value();
    client_ = std::make_unique<GraphClient>(
        Options(3), http_, *tokens_, clock_,
        [this](milliseconds d) {
          slept_.push_back(d);
          clock_.Advance(d);
          return true;
        },
        [](int64_t n) { return n; });  // the largest backoff: deterministic
  }

  // The Intune budget: `writes` per 20 s window (small, so tests reach it), 1000 requests.
  static GraphClient::Options Options(int writes) {
    GraphClient::Options o;
    o.endpoint = "https://graph.example";
    o.intune_limits = {.writes_per_window = writes,
                       .requests_per_window = 1000,
                       .window = milliseconds(20'000),
                       .slack = milliseconds(1000)};
    return o;
  }

  ManualClock clock_;
  ScriptedGraph graph_;
  InProcessOutboundHttp http_;
  std::unique_ptr<ClientCredentialsTokenSource> tokens_;
  std::unique_ptr<GraphClient> client_;
  std::vector<milliseconds> slept_;
};

json ImportState(const std::string& id, const std::string& serial, const std::string& status,
                 int code = 0, const std::string& name = "") {
  return {{"id", id},
          {"serialNumber", serial},
          {"state",
           {{"deviceImportStatus", status},
            {"deviceRegistrationId", status == "complete" ? "reg-" + id : ""},
            {"deviceErrorCode", code},
            {"deviceErrorName", name}}}};
}

TEST_F(GraphClientTest, TokenIsFetchedOnceWithTheSecretAndRenewedBeforeExpiry) {
  graph_.Then(200, {{"id", "x"}});
  graph_.Then(200, {{"id", "x"}});
  graph_.Then(200, {{"id", "x"}});
  client_->GetImports(std::vector<std::string>{"a"});
  client_->GetImports(std::vector<std::string>{"b"});
  EXPECT_EQ(graph_.token_requests, 1);
  auto form = ParseForm(graph_.token_form);
  ASSERT_TRUE(form);
  EXPECT_EQ((*form)["client_secret"], "s3cret&=");
  EXPECT_EQ((*form)["grant_type"], "client_credentials");
  EXPECT_EQ((*form)["scope"], "https://graph.microsoft.com/.default");
  EXPECT_EQ(graph_.seen[0].authorization, "Bearer tok-1");
  clock_.Advance(std::chrono::seconds(3599 - 299));  // inside the five-minute renewal margin
  client_->GetImports(std::vector<std::string>{"c"});
  EXPECT_EQ(graph_.token_requests, 2);
  EXPECT_EQ(graph_.seen[2].authorization, "Bearer tok-2");
}

TEST_F(GraphClientTest, A401RenewsTheTokenOnce) {
  graph_.Then(401, {{"error", {{"code", "InvalidAuthenticationToken"}, {"message", "expired"}}}});
  graph_.Then(200, ImportState("i1", "S1", "unknown"));
  auto got = client_->GetImports(std::vector<std::string>{"i1"});
  ASSERT_TRUE(got[0].ok()) << got[0].status().ToString();
  EXPECT_EQ(graph_.token_requests, 2);
  EXPECT_EQ(graph_.seen[1].authorization, "Bearer tok-2");
}

TEST_F(GraphClientTest, ServerErrorsAreRetriedWithBackoffAndRetryAfterIsHonoured) {
  graph_.Then(503, {{"error", {{"code", "ServiceUnavailable"}, {"message", "busy"}}}});
  graph_.Then(429, {{"error", {{"code", "TooManyRequests"}, {"message", "slow down"}}}},
              {{"Retry-After", "7"}});
  graph_.Then(200, ImportState("i1", "S1", "complete"));
  auto got = client_->GetImports(std::vector<std::string>{"i1"});
  ASSERT_TRUE(got[0].ok());
  ASSERT_TRUE(got[0]->has_value());
  EXPECT_EQ((*got[0])->import_status, "complete");
  EXPECT_EQ((*got[0])->registration_id, "reg-i1");
  ASSERT_EQ(slept_.size(), 2u);
  EXPECT_EQ(slept_[0], milliseconds(500));   // first backoff ceiling
  EXPECT_EQ(slept_[1], milliseconds(7000));  // Retry-After
}

TEST_F(GraphClientTest, NothingIsSentWhileTheSendGateIsClosed) {
  bool open = false;
  client_->SetSendGate([&] { return open; });
  ImportItem item{"S1", "T0E=", "Kiosk", "", ""};
  auto refused = client_->Import(std::span<const ImportItem>(&item, 1));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable) << refused.status().ToString();
  EXPECT_TRUE(graph_.seen.empty());
  open = true;
  graph_.Then(200, ImportState("i1", "S1", "unknown"));
  auto got = client_->GetImports(std::vector<std::string>{"i1"});
  ASSERT_TRUE(got[0].ok()) << got[0].status().ToString();
  EXPECT_EQ(graph_.seen.size(), 1u);
}

TEST_F(GraphClientTest, AnImportIsNeverRepeatedAfterAServerError) {
  graph_.Then(500, {{"error", {{"code", "InternalServerError"}, {"message", "oops"}}}});
  ImportItem item{"S1", "T0E=", "Kiosk", "", ""};
  auto got = client_->Import(std::span<const ImportItem>(&item, 1));
  EXPECT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(graph_.seen.size(), 1u);  // the caller reconciles before any second try
}

TEST_F(GraphClientTest, ImportSendsTheDocumentedBodyAndBatchesSeveralDevices) {
  graph_.Then(201, ImportState("i1", "S1", "unknown"));
  ImportItem one{"S1", "T0E=", "Kiosk", "anna@contoso.example", ""};
  auto got = client_->Import(std::span<const ImportItem>(&one, 1));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ((*got)[0].id, "i1");
  EXPECT_EQ(graph_.seen[0].method, "POST");
  EXPECT_EQ(graph_.seen[0].target,
            "/beta/deviceManagement/importedWindowsAutopilotDeviceIdentities");
  EXPECT_EQ(graph_.seen[0].body["hardwareIdentifier"], "T0E=");
  EXPECT_EQ(graph_.seen[0].body["groupTag"], "Kiosk");
  EXPECT_EQ(graph_.seen[0].body["assignedUserPrincipalName"], "anna@contoso.example");
  EXPECT_EQ(graph_.seen[0].body["@odata.type"],
            "#microsoft.graph.importedWindowsAutopilotDeviceIdentity");

  graph_.Then(
      200, {{"value", {ImportState("i2", "S2", "unknown"), ImportState("i3", "S3", "unknown")}}});
  std::vector<ImportItem> two{{"S2", "T0E=", "", "", ""}, {"S3", "T0E=", "", "", ""}};
  got = client_->Import(two);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ(graph_.seen[1].target,
            "/beta/deviceManagement/importedWindowsAutopilotDeviceIdentities/import");
  EXPECT_EQ(graph_.seen[1].body["importedWindowsAutopilotDeviceIdentities"].size(), 2u);
}

TEST_F(GraphClientTest, PollsOfManyJobsShareBatchesOfTwentyAndRetryOnlyThrottledParts) {
  std::vector<std::string> ids;
  for (int i = 0; i < 25; ++i) ids.push_back("i" + std::to_string(i));
  auto batch_answer = [](const InboundRequest& req, int throttle_id) {
    json in = json::parse(req.message.body());
    json out = {{"responses", json::array()}};
    for (const json& r : in["requests"]) {
      std::string id = r["id"];
      std::string url = r["url"];
      std::string import_id = url.substr(url.rfind('/') + 1);
      if (std::stoi(id) == throttle_id) {
        out["responses"].push_back({{"id", id},
                                    {"status", 429},
                                    {"headers", {{"Retry-After", "2"}}},
                                    {"body", {{"error", {{"code", "TooManyRequests"}}}}}});
      } else {
        out["responses"].push_back(
            {{"id", id}, {"status", 200}, {"body", ImportState(import_id, "S", "unknown")}});
      }
    }
    return ScriptedGraph::Json(200, out);
  };
  graph_.script.push_back([&](const InboundRequest& r) { return batch_answer(r, 3); });
  graph_.script.push_back([&](const InboundRequest& r) { return batch_answer(r, -1); });
  graph_.Then(200, ImportState("i3", "S", "unknown"));  // the throttled one, alone
  auto got = client_->GetImports(ids);
  ASSERT_EQ(got.size(), 25u);
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_TRUE(got[i].ok()) << i;
    ASSERT_TRUE(got[i]->has_value()) << i;
    EXPECT_EQ((*got[i])->id, ids[i]);
  }
  ASSERT_EQ(graph_.seen.size(), 3u);
  EXPECT_EQ(graph_.seen[0].target, "/beta/$batch");
  EXPECT_EQ(graph_.seen[0].body["requests"].size(), 20u);
  EXPECT_EQ(graph_.seen[0].body["requests"][0]["url"],
            "/deviceManagement/importedWindowsAutopilotDeviceIdentities/i0");
  EXPECT_EQ(graph_.seen[1].body["requests"].size(), 5u);
  EXPECT_EQ(graph_.seen[2].target,
            "/beta/deviceManagement/importedWindowsAutopilotDeviceIdentities/i3");
  EXPECT_EQ(client_->http_requests(), 3);
  ASSERT_FALSE(slept_.empty());
  EXPECT_EQ(slept_.back(), milliseconds(2000));
}

TEST_F(GraphClientTest, TheBudgetDelaysWritesInsteadOfBeingThrottled) {
  std::vector<std::string> ids{"a", "b", "c", "d"};
  // Four deletes in one $batch, three writes allowed per 20 s: the budget is taken per
  // operation, so the batch waits for the window instead of earning a 429.
  graph_.script.push_back([](const InboundRequest& req) {
    json in = json::parse(req.message.body());
    json out = {{"responses", json::array()}};
    for (const json& r : in["requests"])
      out["responses"].push_back({{"id", r["id"]}, {"status", 204}});
    return ScriptedGraph::Json(200, out);
  });
  int64_t start = clock_.NowMs();
  std::vector<Status> results = client_->DeleteImports(ids);
  for (const Status& s : results) EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_GE(clock_.NowMs() - start, 20'000);
}

TEST_F(GraphClientTest, DeletingARecordThatIsGoneCountsAsDone) {
  graph_.Then(404, {{"error", {{"code", "ResourceNotFound"}, {"message", "gone"}}}});
  std::vector<std::string> ids{"gone"};
  std::vector<Status> results = client_->DeleteImports(ids);
  EXPECT_TRUE(results[0].ok());
}

TEST_F(GraphClientTest, BackgroundWritesNeedRoomForABatchAndNoWriteWaiting) {
  std::mutex mu;
  std::condition_variable cv;
  bool sleeping = false, wake = false;
  GraphClient client(
      Options(25), http_, *tokens_, clock_,
      [&](milliseconds d) {
        std::unique_lock lock(mu);
        sleeping = true;
        cv.notify_all();
        cv.wait(lock, [&] { return wake; });
        clock_.Advance(d);
        return true;
      },
      [](int64_t n) { return n; });
  std::vector<std::string> one{"a"};
  auto remove = [&] {
    graph_.Then(204, json());
    return client.DeleteImports(one)[0].ok();
  };
  EXPECT_TRUE(client.HasSpareWrites());  // 0 + a batch of 20 fits under 25 - 5
  ASSERT_TRUE(remove());
  EXPECT_FALSE(client.HasSpareWrites());  // 1 + 20 would eat into the fifth kept free
  clock_.Advance(milliseconds(21'001));   // the window (and its slack) passed
  EXPECT_TRUE(client.HasSpareWrites());
  for (int i = 0; i < 25; ++i) ASSERT_TRUE(remove());
  // The window is full: the next write waits for the budget, and while it waits no background
  // write may start, even once the window has room again.
  std::thread waiting([&] { EXPECT_TRUE(remove()); });
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return sleeping; });
  }
  clock_.Advance(milliseconds(21'001));
  EXPECT_FALSE(client.HasSpareWrites());
  {
    std::lock_guard lock(mu);
    wake = true;
    cv.notify_all();
  }
  waiting.join();
  clock_.Advance(milliseconds(21'001));
  EXPECT_TRUE(client.HasSpareWrites());
}

TEST_F(GraphClientTest, FindImportsFiltersWithContainsFollowsPagesAndMatchesExactly) {
  graph_.Then(200, {{"value", {ImportState("i1", "ABC12", "unknown")}},
                    {"@odata.nextLink", "https://graph.example/beta/next?$skiptoken=2"}});
  graph_.Then(200, {{"value", {ImportState("i2", "abc1", "complete")}}});
  auto found = client_->FindImports("ABC1");
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ((*found)[0].id, "i2");
  EXPECT_NE(graph_.seen[0].target.find("$filter=contains%28serialNumber%2C%27ABC1%27%29"),
            std::string::npos);
  EXPECT_EQ(graph_.seen[1].target, "/beta/next?$skiptoken=2");
}

TEST_F(GraphClientTest, GroupAddsUsePatchAndFallBackWhenOneIsAlreadyAMember) {
  graph_.Then(400, {{"error",
                     {{"code", "Request_BadRequest"},
                      {"message",
                       "One or more added object references already exist for the "
                       "following modified properties: 'members'."}}}});
  graph_.Then(204, json());
  graph_.Then(400, {{"error",
                     {{"code", "Request_BadRequest"},
                      {"message",
                       "One or more added object references already exist for the "
                       "following modified properties: 'members'."}}}});
  std::vector<std::string> ids{"o1", "o2"};
  std::vector<Status> results = client_->AddGroupMembers("g1", ids);
  EXPECT_TRUE(results[0].ok());
  EXPECT_TRUE(results[1].ok());
  ASSERT_EQ(graph_.seen.size(), 3u);
  EXPECT_EQ(graph_.seen[0].method, "PATCH");
  EXPECT_EQ(graph_.seen[0].body["members@odata.bind"].size(), 2u);
  EXPECT_EQ(graph_.seen[1].target, "/v1.0/groups/g1/members/$ref");
  EXPECT_EQ(graph_.seen[1].body["@odata.id"], "https://graph.example/v1.0/directoryObjects/o1");
}

TEST_F(GraphClientTest, SyncWithinTenMinutesIsReportedNotRetried) {
  graph_.Then(429, {{"error", {{"code", "TooManyRequests"}, {"message", "too soon"}}}},
              {{"Retry-After", "600"}});
  Status s = client_->SyncAutopilot();
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(graph_.seen.size(), 1u);
  EXPECT_TRUE(slept_.empty());
}

TEST_F(GraphClientTest, NonRetryableErrorsCarryGraphsCodeAndIntunesMessage) {
  json intune = {{"_version", 3},
                 {"Message", "An error has occurred - Operation ID (for customer support): 1"},
                 {"CustomApiErrorPhrase", ""}};
  graph_.Then(400, {{"error", {{"code", "BadRequest"}, {"message", intune.dump()}}}});
  std::vector<std::string> ids{"x"};
  auto got = client_->GetAutopilotDevices(ids);
  ASSERT_FALSE(got[0].ok());
  EXPECT_EQ(got[0].status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(got[0].status().message().find("BadRequest"), std::string::npos);
  EXPECT_NE(got[0].status().message().find("An error has occurred"), std::string::npos);
}

TEST_F(GraphClientTest, ADeviceNotYetReplicatedIsRetriedNotFinal) {
  graph_.Then(404, {{"error", {{"code", "Request_ResourceNotFound"}, {"message", "nope"}}}});
  std::vector<std::string> ids{"o1"};
  std::vector<Status> results = client_->AddGroupMembers("g1", ids);
  EXPECT_EQ(results[0].code(), StatusCode::kUnavailable);
}

TEST_F(GraphClientTest, NextLinksOutsideGraphAreNotFollowed) {
  graph_.Then(200, {{"value", json::array()},
                    {"@odata.nextLink", "https://evil.example/beta/next?$skiptoken=2"}});
  auto listed = client_->ListImports();
  ASSERT_FALSE(listed.ok());
  EXPECT_NE(listed.status().message().find("outside"), std::string::npos);
  EXPECT_EQ(graph_.seen.size(), 1u);  // the token never went to evil.example
}

}  // namespace
}  // namespace apm
