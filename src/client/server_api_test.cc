#include "client/server_api.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "client/testing/fakes.h"

namespace apm::client {
namespace {

using testing::Answer;
using testing::FakeHttpClient;
using ::testing::HasSubstr;

constexpr char kStatus[] = R"({"id":"R1","state":"failed","step":"Failed","terminal":true,
  "mode":"self_service","approvalUrl":"https://a/autopilot/R1",
  "device":{"serialNumber":"S","manufacturer":"M","model":"X"},"verification":"verified",
  "error":{"code":806,"name":"ZtdDeviceAlreadyAssigned","message":"already"},
  "qr":{"size":2,"rows":["10","01"]}})";

TEST(ParseRequestStatusTest, ReadsEveryField) {
  Result<RequestStatus> s = ParseRequestStatus(kStatus);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->id, "R1");
  EXPECT_EQ(s->state, RequestState::kFailed);
  EXPECT_TRUE(s->terminal);
  EXPECT_TRUE(s->self_service);
  EXPECT_EQ(s->serial_number, "S");
  ASSERT_TRUE(s->error.has_value());
  EXPECT_EQ(s->error->code, 806);
  EXPECT_EQ(s->error->name, "ZtdDeviceAlreadyAssigned");
  EXPECT_EQ(s->qr_rows, (std::vector<std::string>{"10", "01"}));
}

TEST(ParseRequestStatusTest, NamesWhatIsWrong) {
  EXPECT_THAT(ParseRequestStatus("[]").status().message(), HasSubstr("not a JSON object"));
  EXPECT_THAT(ParseRequestStatus(R"({"state":"approved"})").status().message(),
              HasSubstr("request id"));
  EXPECT_THAT(ParseRequestStatus(R"({"id":"a","state":"dancing"})").status().message(),
              HasSubstr("dancing"));
  EXPECT_THAT(ParseRequestStatus(R"({"id":"a","state":"approved","qr":{"rows":["1"," 0"]}})")
                  .status()
                  .message(),
              HasSubstr("square"));
  // A wrongly typed field is not a crash.
  EXPECT_TRUE(ParseRequestStatus(R"({"id":"a","state":"approved","terminal":"no"})").ok());
}

TEST(ServerApiTest, SubmitSendsTheFactsAndReadsTheRequest) {
  FakeHttpClient http(
      [](const HttpRequest&) -> Result<HttpResponse> { return Answer(201, kStatus); });
  ServerApi api(http, "https://apm.example", "1.2.3");
  Result<SubmitOutcome> outcome = api.Submit({"S", "M", "X", "HASH", "test", ""});
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  ASSERT_TRUE(outcome->request.has_value());
  EXPECT_EQ(outcome->request->id, "R1");
  HttpRequest sent = http.requests().at(0);
  EXPECT_EQ(sent.method, "POST");
  EXPECT_EQ(sent.url, "https://apm.example/api/v1/requests");
  nlohmann::json body = nlohmann::json::parse(sent.body);
  EXPECT_EQ(body["serialNumber"], "S");
  EXPECT_EQ(body["hardwareHash"], "HASH");
  EXPECT_EQ(body["clientVersion"], "1.2.3");
  EXPECT_FALSE(body.contains("action")) << "an import says nothing";

  ServerApi erase(http, "https://apm.example", "1.2.3", "remove_intune_record");
  ASSERT_TRUE(erase.Submit({"S", "M", "X", "HASH", "test", ""}).ok());
  EXPECT_EQ(nlohmann::json::parse(http.requests().at(1).body)["action"], "remove_intune_record");
}

TEST(ServerApiTest, RefusalsAndBusyServers) {
  int status = 403;
  FakeHttpClient http([&](const HttpRequest&) -> Result<HttpResponse> {
    return Answer(status,
                  R"({"error":{"code":"model_not_allowed","message":"model X is not allowed"}})");
  });
  ServerApi api(http, "https://apm.example", "1");
  Result<SubmitOutcome> outcome = api.Submit({});
  ASSERT_TRUE(outcome.ok());
  ASSERT_TRUE(outcome->refusal.has_value());
  EXPECT_EQ(outcome->refusal->code, "model_not_allowed");
  EXPECT_EQ(outcome->refusal->message, "model X is not allowed");
  status = 503;
  EXPECT_EQ(api.Submit({}).status().code(), StatusCode::kUnavailable);
  status = 429;
  EXPECT_EQ(api.Submit({}).status().code(), StatusCode::kUnavailable);
}

TEST(ServerApiTest, PollLongPollsWithTheEtag) {
  std::vector<HttpResponse> answers = {
      Answer(200, R"({"id":"R1","state":"approved"})", {{"ETag", "\"v2\""}}),
      Answer(304, "", {{"ETag", "\"v2\""}}), Answer(404, "")};
  size_t next = 0;
  FakeHttpClient http(
      [&](const HttpRequest&) -> Result<HttpResponse> { return answers.at(next++); });
  ServerApi api(http, "https://apm.example", "1");
  Result<PollOutcome> first = api.Poll("R1", "", std::chrono::seconds(55));
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->status.state, RequestState::kApproved);
  EXPECT_EQ(first->etag, "\"v2\"");
  Result<PollOutcome> second = api.Poll("R1", first->etag, std::chrono::seconds(55));
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(second->not_modified);
  EXPECT_TRUE(api.Poll("R1", "", std::chrono::seconds(0))->not_found);

  std::vector<HttpRequest> sent = http.requests();
  EXPECT_EQ(sent[0].url, "https://apm.example/api/v1/requests/R1?wait=55");
  EXPECT_GT(sent[0].timeout, std::chrono::seconds(55));  // the wait fits in the timeout
  EXPECT_EQ(sent[1].headers.back(),
            (std::pair<std::string, std::string>{"If-None-Match", "\"v2\""}));
  EXPECT_EQ(sent[2].url, "https://apm.example/api/v1/requests/R1");
}

}  // namespace
}  // namespace apm::client
