// End-to-end tests of the real apm-server binary on a loopback port with a real SQLite file.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "server_process.h"

namespace apm::itest {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

const std::vector<std::string> kJson = {"Content-Type: application/json"};

json Body(const HttpResult& r) {
  return json::parse(r.body, nullptr, false);
}

HttpResult Submit(const ServerProcess& s, const std::string& body,
                  std::vector<std::string> headers = kJson) {
  return Http("POST", s.url() + "/api/v1/requests", body, headers);
}

class ServerTest : public ::testing::Test {
 protected:
  void StartServer(const std::string& config = "", std::map<std::string, std::string> env = {}) {
    server_ = std::make_unique<ServerProcess>(config, env);
    ASSERT_TRUE(server_->Start()) << server_->log();
  }
  void SetUp() override { StartServer(); }
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(ServerTest, SubmitCreatesRequestWithQrAndStatus) {
  HttpResult r = Submit(*server_, SubmitBody("PF3ABCDE"));
  ASSERT_EQ(r.status, 201) << r.body;
  json j = Body(r);
  std::string id = j["id"];
  EXPECT_EQ(id.size(), 24u);  // 144 random bits, base64url
  EXPECT_NE(id[0], '-');
  EXPECT_EQ(
      id.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
      std::string::npos);
  EXPECT_EQ(j["state"], "pending_approval");
  EXPECT_EQ(j["step"], "Waiting for approval");
  EXPECT_EQ(j["mode"], "approval");  // the original's default
  EXPECT_EQ(j["approvalUrl"], server_->url() + "/autopilot/" + id);
  EXPECT_EQ(j["verification"], "verified");
  EXPECT_TRUE(j["expiresAt"].is_string());
  int size = j["qr"]["size"];
  EXPECT_GE(size, 21);
  ASSERT_EQ(j["qr"]["rows"].size(), size_t(size));
  EXPECT_EQ(j["qr"]["rows"][0].get<std::string>().substr(0, 7), "1111111");
  EXPECT_EQ(r.Header("location"), "/api/v1/requests/" + id);

  HttpResult g = Http("GET", server_->url() + "/api/v1/requests/" + id);
  ASSERT_EQ(g.status, 200);
  json s = Body(g);
  EXPECT_EQ(s["id"], id);
  EXPECT_EQ(s["device"]["serialNumber"], "PF3ABCDE");
  EXPECT_TRUE(s["error"].is_null());
  // The hash never leaves the server.
  EXPECT_THAT(g.body, Not(HasSubstr(LaptopHash("PF3ABCDE").substr(0, 40))));
  EXPECT_THAT(g.body, Not(HasSubstr("hardwareHash")));
  EXPECT_EQ(g.Header("cache-control"), "no-store");

  // ETag / If-None-Match.
  std::string etag = g.Header("etag");
  ASSERT_FALSE(etag.empty());
  HttpResult nm =
      Http("GET", server_->url() + "/api/v1/requests/" + id, "", {"If-None-Match: " + etag});
  EXPECT_EQ(nm.status, 304);
  EXPECT_TRUE(nm.body.empty());
  // A weak validator matches too (RFC 9110 §13.1.2), as do lists and "*".
  EXPECT_EQ(Http("GET", server_->url() + "/api/v1/requests/" + id, "", {"If-None-Match: W/" + etag})
                .status,
            304);
  EXPECT_EQ(
      Http("GET", server_->url() + "/api/v1/requests/" + id, "", {"If-None-Match: \"v0\", " + etag})
          .status,
      304);

  EXPECT_EQ(Http("GET", server_->url() + "/api/v1/requests/AAAAAAAAAAAAAAAAAAAAAAAA").status, 404);
  EXPECT_EQ(Http("GET", server_->url() + "/api/v1/requests/..%2f..").status, 404);
}

TEST_F(ServerTest, SecondSubmissionForSerialReturnsOpenRequest) {
  HttpResult first = Submit(*server_, SubmitBody("SER-TWIN"));
  ASSERT_EQ(first.status, 201);
  HttpResult second = Submit(*server_, SubmitBody("SER-TWIN"));
  ASSERT_EQ(second.status, 200) << second.body;
  EXPECT_EQ(Body(second)["id"], Body(first)["id"]);
  EXPECT_TRUE(Body(second)["qr"].is_object());
}

// Security issue 10, finding 3: only a submission with the same hash gets an open request back;
// anyone else who knows the serial (in any letter case) learns nothing about it.
TEST_F(ServerTest, KnowingASerialDoesNotGiveAwayItsRequest) {
  HttpResult victim = Submit(*server_, SubmitBody("VICTIM-X"));
  ASSERT_EQ(victim.status, 201) << victim.body;
  std::string id = Body(victim)["id"];
  for (const std::string serial : {"VICTIM-X", "victim-x", "Victim-X"}) {
    json forged = json::parse(SubmitBody(serial));
    forged["hardwareHash"] = "T0EAAAAA";  // decodes as base64, not as a hash: "unverifiable"
    HttpResult r = Submit(*server_, forged.dump());
    EXPECT_EQ(r.status, 409) << serial << ": " << r.body;
    EXPECT_EQ(Body(r)["error"]["code"], "serial_has_open_request");
    EXPECT_THAT(r.body, Not(HasSubstr(id)));
  }
  // Another serial's real hash claiming this serial is refused as a mismatch before that.
  json other = json::parse(SubmitBody("OTHER-1"));
  other["serialNumber"] = "victim-x";
  EXPECT_EQ(Submit(*server_, other.dump()).status, 403);
  // The compatibility API neither answers with nor aliases the victim's request.
  std::string guid = "6c1b1b2e-0d7e-4a8e-9d1f-2a3b4c5d6e7f";
  json compat = {{"SerialNumber", "victim-x"},
                 {"HardwareHash", "T0EAAAAA"},
                 {"Manufacturer", "LENOVO"},
                 {"Model", "21R3001BUK"},
                 {"Action", "IMPORT"}};
  HttpResult save = Http("POST", server_->url() + "/api-autopilot/" + guid + "/save-information",
                         compat.dump(), kJson);
  EXPECT_EQ(save.status, 400);
  EXPECT_EQ(save.body, "\"Device already has an open request\"");
  EXPECT_EQ(Http("GET", server_->url() + "/api-autopilot/" + guid + "/result").status, 404);
  // The device itself, submitting again with its hash, still gets its request.
  HttpResult again = Submit(*server_, SubmitBody("VICTIM-X"));
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(Body(again)["id"], id);
}

TEST_F(ServerTest, ValidationErrorsNameTheField) {
  json good = json::parse(SubmitBody("VAL-1"));
  struct Case {
    std::string field;
    json value;
  } cases[] = {
      {"serialNumber", ""},
      {"serialNumber", std::string(129, 'S')},
      {"serialNumber", "BAD\u0007SERIAL"},
      {"serialNumber", 12345},
      {"manufacturer", std::string(257, 'm')},
      {"model", json::array()},
      {"hardwareHash", "!!!not-base64!!!"},
      {"hardwareHash", nullptr},
      {"productKey", "12345"},
  };
  for (const Case& c : cases) {
    json body = good;
    body[c.field] = c.value;
    HttpResult r = Submit(*server_, body.dump());
    EXPECT_EQ(r.status, 400) << c.field << " " << r.body;
    EXPECT_EQ(Body(r)["error"]["field"], c.field) << r.body;
  }
  HttpResult malformed = Submit(*server_, "{\"serialNumber\": ");
  EXPECT_EQ(malformed.status, 400);
  EXPECT_EQ(Body(malformed)["error"]["code"], "malformed_json");
  HttpResult not_object = Submit(*server_, "[1,2]");
  EXPECT_EQ(not_object.status, 400);
  HttpResult wrong_type = Submit(*server_, good.dump(), {"Content-Type: text/plain"});
  EXPECT_EQ(wrong_type.status, 415);
  EXPECT_EQ(Submit(*server_, good.dump(), {"Content-Type: application/jsonx"}).status, 415);
  json charset = good;
  charset["serialNumber"] = "VAL-CHARSET";
  charset["hardwareHash"] = LaptopHash("VAL-CHARSET");
  EXPECT_EQ(
      Submit(*server_, charset.dump(), {"Content-Type: Application/JSON; charset=utf-8"}).status,
      201);

  // Unknown fields are ignored.
  json extra = good;
  extra["somethingNew"] = {1, 2, 3};
  EXPECT_EQ(Submit(*server_, extra.dump()).status, 201);
}

TEST_F(ServerTest, OversizedBodyIs413AndServerStaysUp) {
  std::string big = "{\"serialNumber\":\"" + std::string(70 * 1024, 'A') + "\"}";
  HttpResult r = Submit(*server_, big);
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(Http("GET", server_->url() + "/healthz").status, 200);
}

TEST_F(ServerTest, HashMismatchIsRefusedWith403) {
  json body = json::parse(SubmitBody("REAL-SERIAL"));
  body["serialNumber"] = "TYPED-SERIAL";
  HttpResult r = Submit(*server_, body.dump());
  ASSERT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(Body(r)["error"]["code"], "hash_mismatch");
  EXPECT_THAT(Body(r)["error"]["message"].get<std::string>(), HasSubstr("serial number"));
}

TEST_F(ServerTest, UnverifiableHashIsAcceptedAndMarked) {
  json body = json::parse(SubmitBody("ODD-1"));
  body["hardwareHash"] = "T0EAAAAA";  // base64 of bytes that are not a hash layout
  HttpResult r = Submit(*server_, body.dump());
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(Body(r)["verification"], "unverifiable");
}

TEST(ServerConfigTest, AllowListUsesHashValues) {
  ServerProcess s(
      "UseManufacturersFilter = true\nManufacturers = \"Microsoft Corporation\"\n"
      "HashVerification = \"off\"\n");
  ASSERT_TRUE(s.Start()) << s.log();
  // The client claims Microsoft, but its hash says LENOVO.
  json body = json::parse(SubmitBody("ALLOW-1"));
  body["manufacturer"] = "Microsoft Corporation";
  HttpResult r = Submit(s, body.dump());
  ASSERT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(Body(r)["error"]["code"], "manufacturer_not_allowed");
  HttpResult ok = Submit(s, SubmitBody("ALLOW-2", "Microsoft Corporation", "Surface Laptop 5"));
  EXPECT_EQ(ok.status, 201) << ok.body;
}

TEST(ServerConfigTest, RateLimitAnswers429WithRetryAfter) {
  ServerProcess s("SubmitBurst = 3\nSubmitRatePerMinute = 1\n");
  ASSERT_TRUE(s.Start()) << s.log();
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(Submit(s, SubmitBody("RL-" + std::to_string(i))).status, 201);
  HttpResult r = Submit(s, SubmitBody("RL-9"));
  ASSERT_EQ(r.status, 429);
  EXPECT_EQ(Body(r)["error"]["code"], "rate_limited");
  EXPECT_GE(std::stoi(r.Header("retry-after")), 1);
  // Status polls are not limited.
  EXPECT_EQ(Http("GET", s.url() + "/healthz").status, 200);
}

TEST(ServerConfigTest, CapsOpenRequestsPerAddress) {
  ServerProcess s("MaxOpenRequestsPerAddress = 2\n");
  ASSERT_TRUE(s.Start()) << s.log();
  EXPECT_EQ(Submit(s, SubmitBody("CAP-1")).status, 201);
  EXPECT_EQ(Submit(s, SubmitBody("CAP-2")).status, 201);
  HttpResult r = Submit(s, SubmitBody("CAP-3"));
  ASSERT_EQ(r.status, 429);
  EXPECT_EQ(Body(r)["error"]["code"], "too_many_open_requests");
}

TEST_F(ServerTest, LongPollReturnsWithinOneSecondOfStateChange) {
  HttpResult c = Submit(*server_, SubmitBody("LP-1"));
  ASSERT_EQ(c.status, 201);
  std::string id = Body(c)["id"];
  auto poll = std::async(std::launch::async, [&] {
    HttpResult r = Http("GET", server_->url() + "/api/v1/requests/" + id + "?wait=30");
    return std::make_pair(r, std::chrono::steady_clock::now());
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  ASSERT_EQ(poll.wait_for(std::chrono::seconds(0)), std::future_status::timeout)
      << "the long-poll answered before anything changed";
  std::string out;
  ASSERT_EQ(server_->RunCommand({"request", "reject", id, "--reason", "Not one of ours"}, &out), 0)
      << out;
  auto changed_at = std::chrono::steady_clock::now();
  ASSERT_EQ(poll.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  auto [r, answered_at] = poll.get();
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["state"], "rejected");
  EXPECT_EQ(Body(r)["error"]["message"], "Not one of ours");
  EXPECT_LT(answered_at - changed_at, std::chrono::seconds(1));
}

TEST_F(ServerTest, LongPollTimesOutWith304ForCurrentEtag) {
  HttpResult c = Submit(*server_, SubmitBody("LP-2"));
  std::string id = Body(c)["id"];
  auto start = std::chrono::steady_clock::now();
  HttpResult r = Http("GET", server_->url() + "/api/v1/requests/" + id + "?wait=1", "",
                      {"If-None-Match: " + c.Header("etag")});
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.status, 304);
  EXPECT_GE(took, std::chrono::milliseconds(900));
  EXPECT_LT(took, std::chrono::seconds(3));
  // A stale ETag is answered at once.
  start = std::chrono::steady_clock::now();
  HttpResult stale = Http("GET", server_->url() + "/api/v1/requests/" + id + "?wait=30", "",
                          {"If-None-Match: \"v0\""});
  EXPECT_EQ(stale.status, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(500));
  EXPECT_EQ(Http("GET", server_->url() + "/api/v1/requests/" + id + "?wait=soon").status, 400);
}

TEST_F(ServerTest, ManyLongPollsWaitOnFewThreads) {
  // 200 concurrent long-polls on a server with 2 worker threads: none blocks the others.
  HttpResult c = Submit(*server_, SubmitBody("LP-3"));
  std::string id = Body(c)["id"];
  std::vector<std::future<long>> polls;
  for (int i = 0; i < 200; ++i) {
    polls.push_back(std::async(std::launch::async, [&] {
      return Http("GET", server_->url() + "/api/v1/requests/" + id + "?wait=20").status;
    }));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(Http("GET", server_->url() + "/healthz").status, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(500));
  ASSERT_EQ(server_->RunCommand({"request", "reject", id}), 0);
  for (auto& p : polls) EXPECT_EQ(p.get(), 200);
}

TEST_F(ServerTest, AcknowledgedRequestSurvivesKill9) {
  HttpResult c = Submit(*server_, SubmitBody("DURABLE-1"));
  ASSERT_EQ(c.status, 201);
  std::string id = Body(c)["id"];
  server_->Kill9();
  ASSERT_TRUE(server_->Start()) << server_->log();
  HttpResult g = Http("GET", server_->url() + "/api/v1/requests/" + id);
  ASSERT_EQ(g.status, 200) << g.body;
  EXPECT_EQ(Body(g)["device"]["serialNumber"], "DURABLE-1");
}

TEST_F(ServerTest, GracefulShutdownAnswersWaitersAndExitsCleanly) {
  HttpResult c = Submit(*server_, SubmitBody("SHUT-1"));
  std::string id = Body(c)["id"];
  auto poll = std::async(std::launch::async, [&] {
    return Http("GET", server_->url() + "/api/v1/requests/" + id + "?wait=60");
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(server_->Stop(SIGTERM), 0) << server_->log();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  HttpResult r = poll.get();
  EXPECT_EQ(r.status, 200);  // answered with the current state, not dropped
  EXPECT_THAT(server_->log(), HasSubstr("stopped"));
  // And the store is intact.
  ASSERT_TRUE(server_->Start());
  EXPECT_EQ(Http("GET", server_->url() + "/api/v1/requests/" + id).status, 200);
}

TEST_F(ServerTest, CompatibilityApiForOldClients) {
  EXPECT_EQ(Http("HEAD", server_->url() + "/").status, 200);
  std::string guid = "3f2504e0-4f89-11d3-9a0c-0305e82c3301";
  json body = {{"Id", guid},
               {"SerialNumber", "OLD-1"},
               {"HardwareHash", LaptopHash("OLD-1")},
               {"Manufacturer", "LENOVO"},
               {"Model", "21R3001BUK"},
               {"GroupTag", nullptr},
               {"Action", "IMPORT"}};
  std::string save = server_->url() + "/api-autopilot/" + guid + "/save-information";
  HttpResult s = Http("POST", save, body.dump(), kJson);
  EXPECT_EQ(s.status, 200) << s.body;

  std::string result = server_->url() + "/api-autopilot/" + guid + "/result";
  HttpResult r = Http("GET", result);
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.body, "\"ApprovalMode\"");

  // The same id again is refused with the original's words.
  HttpResult again = Http("POST", save, body.dump(), kJson);
  EXPECT_EQ(again.status, 400);
  EXPECT_EQ(again.body, "\"Import job id already used\"");

  // A relaunched old client (new GUID, same serial) follows the open request.
  std::string guid2 = "3f2504e0-4f89-11d3-9a0c-0305e82c3302";
  json again_body = body;
  again_body["Id"] = guid2;
  EXPECT_EQ(Http("POST", server_->url() + "/api-autopilot/" + guid2 + "/save-information",
                 again_body.dump(), kJson)
                .status,
            200);
  EXPECT_EQ(Http("GET", server_->url() + "/api-autopilot/" + guid2 + "/result").status, 201);

  // ap.exe -u (no hash) asks for its corporate identifier to be registered (APv2).
  json no_hash = body;
  no_hash["HardwareHash"] = nullptr;
  no_hash["SerialNumber"] = "PF3APV77";
  HttpResult nh =
      Http("POST",
           server_->url() + "/api-autopilot/" +
               std::string("3f2504e0-4f89-11d3-9a0c-0305e82c3303") + "/save-information",
           no_hash.dump(), kJson);
  EXPECT_EQ(nh.status, 200) << nh.body;
  no_hash["SerialNumber"] = "PF3,APV78";
  nh = Http("POST",
            server_->url() + "/api-autopilot/" +
                std::string("3f2504e0-4f89-11d3-9a0c-0305e82c3304") + "/save-information",
            no_hash.dump(), kJson);
  EXPECT_EQ(nh.status, 400);
  EXPECT_THAT(nh.body, HasSubstr("Invalid SerialNumber: must not contain a comma"));

  // Rejected (or expired) reads as 410, which ap.exe 1.x shows as "Timed out".
  std::string out;
  ASSERT_EQ(server_->RunCommand({"request", "reject", guid}, &out), 0) << out;
  EXPECT_EQ(Http("GET", result).status, 410);
  EXPECT_EQ(Http("GET", server_->url() + "/api-autopilot/" + guid2 + "/result").status, 410);

  // The QR code of ap.exe 1.x in approval mode leads to this page.
  HttpResult nss = Http("GET", server_->url() + "/Home/NoSelfService");
  EXPECT_EQ(nss.status, 200);
  EXPECT_THAT(nss.body, HasSubstr("Call your helpdesk"));

  // Not a GUID, DELETE, and the allow-list answers.
  EXPECT_EQ(Http("POST", server_->url() + "/api-autopilot/not-a-guid/save-information", body.dump(),
                 kJson)
                .status,
            400);
  json del = body;
  del["Action"] = "DELETE";
  HttpResult d = Http("POST",
                      server_->url() + "/api-autopilot/" +
                          std::string("11111111-2222-3333-4444-555555555555") + "/save-information",
                      del.dump(), kJson);
  EXPECT_EQ(d.status, 400);
  EXPECT_EQ(d.body, "\"DELETE requests not allowed\"");
  EXPECT_EQ(Http("GET", server_->url() + "/api-autopilot/" +
                            std::string("99999999-2222-3333-4444-555555555555") + "/result")
                .status,
            404);
}

TEST(ServerConfigTest, CompatAllowListWords) {
  ServerProcess s("UseModelsFilter = true\nModels = [\"Surface Laptop 5\"]\n");
  ASSERT_TRUE(s.Start()) << s.log();
  json body = {{"Id", "aaaaaaaa-4f89-11d3-9a0c-0305e82c3301"},
               {"SerialNumber", "OLD-2"},
               {"HardwareHash", LaptopHash("OLD-2")},
               {"Manufacturer", "LENOVO"},
               {"Model", "21R3001BUK"},
               {"Action", "IMPORT"}};
  HttpResult r =
      Http("POST", s.url() + "/api-autopilot/aaaaaaaa-4f89-11d3-9a0c-0305e82c3301/save-information",
           body.dump(), kJson);
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, "\"Model not allowed\"");
}

TEST(ServerConfigTest, OneLinerOfAPlainHttpServerAllowsHttp) {
  ServerProcess s;
  ASSERT_TRUE(s.Start()) << s.log();
  HttpResult home = Http("GET", s.url() + "/");
  EXPECT_THAT(home.body, HasSubstr("/ap.exe &amp; ap --allow-http " + s.url() + "<"));
}

TEST(ServerConfigTest, SelfServiceModeAndPublicUrl) {
  ServerProcess s("ApprovalMode = false\nPublicUrl = \"https://apm.example.com/\"\n");
  ASSERT_TRUE(s.Start()) << s.log();
  HttpResult r = Submit(s, SubmitBody("SELF-1"));
  ASSERT_EQ(r.status, 201);
  json j = Body(r);
  EXPECT_EQ(j["mode"], "self_service");
  EXPECT_EQ(j["approvalUrl"], "https://apm.example.com/autopilot/" + j["id"].get<std::string>());
  HttpResult home = Http("GET", s.url() + "/");
  EXPECT_THAT(home.body, HasSubstr("curl -o ap.exe https://apm.example.com/ap.exe &amp; ap "
                                   "https://apm.example.com<"));
  EXPECT_THAT(home.body, HasSubstr("cd %temp%"));
  std::string guid = "bbbbbbbb-4f89-11d3-9a0c-0305e82c3301";
  json body = {{"SerialNumber", "OLD-3"},
               {"HardwareHash", LaptopHash("OLD-3")},
               {"Manufacturer", "LENOVO"},
               {"Model", "21R3001BUK"},
               {"Action", "IMPORT"}};
  ASSERT_EQ(
      Http("POST", s.url() + "/api-autopilot/" + guid + "/save-information", body.dump(), kJson)
          .status,
      200);
  HttpResult res = Http("GET", s.url() + "/api-autopilot/" + guid + "/result");
  EXPECT_EQ(res.status, 201);
  EXPECT_EQ(res.body, "");
}

TEST(ServerConfigTest, ServesClientBinaries) {
  std::string exe = (std::filesystem::temp_directory_path() /
                     ("apm-fake-ap-" + std::to_string(getpid()) + ".exe"))
                        .string();
  std::string content = "MZ" + std::string(100000, '\x90');
  std::ofstream(exe, std::ios::binary) << content;
  ServerProcess s("ClientWindowsBinary = \"" + exe + "\"\n");
  ASSERT_TRUE(s.Start()) << s.log();
  HttpResult r = Http("GET", s.url() + "/ap.exe");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, content);
  EXPECT_EQ(r.Header("content-type"), "application/vnd.microsoft.portable-executable");
  EXPECT_EQ(r.Header("content-length"), std::to_string(content.size()));
  EXPECT_EQ(r.Header("content-disposition"), "attachment; filename=\"ap.exe\"");
  EXPECT_EQ(r.Header("x-content-type-options"), "nosniff");
  HttpResult head = Http("HEAD", s.url() + "/ap.exe");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.Header("content-length"), std::to_string(content.size()));
  EXPECT_EQ(head.Header("x-content-type-options"), "nosniff");
  HttpResult posix = Http("GET", s.url() + "/ap");
  EXPECT_EQ(posix.status, 404);
  EXPECT_THAT(posix.body, HasSubstr("ClientPosixBinary"));
  std::filesystem::remove(exe);
}

TEST_F(ServerTest, OperationsEndpoints) {
  ASSERT_EQ(Submit(*server_, SubmitBody("OPS-1")).status, 201);
  EXPECT_EQ(Http("GET", server_->url() + "/healthz").status, 200);
  EXPECT_EQ(Http("GET", server_->url() + "/readyz").status, 200);
  HttpResult m = Http("GET", server_->url() + "/metrics");
  ASSERT_EQ(m.status, 200);
  EXPECT_THAT(m.body,
              HasSubstr("apm_http_requests_total{route=\"/api/v1/requests\",status=\"201\"} 1"));
  EXPECT_THAT(
      m.body,
      HasSubstr(
          "apm_http_request_duration_seconds_bucket{route=\"/api/v1/requests\",le=\"+Inf\"} 1"));
  EXPECT_THAT(m.body, HasSubstr("apm_device_requests{state=\"pending_approval\"} 1"));
  EXPECT_THAT(m.body,
              HasSubstr("apm_store_operation_duration_seconds_count{operation=\"create\"} 1"));
  // One access-log line per request; the hash appears only as a fingerprint.
  EXPECT_TRUE(server_->WaitForLog("route=/metrics path=/metrics status=200")) << server_->log();
  std::string log = server_->log();
  EXPECT_THAT(log, HasSubstr("request method=POST route=/api/v1/requests path=/api/v1/requests "
                             "status=201"));
  EXPECT_THAT(log, Not(HasSubstr(LaptopHash("OPS-1").substr(0, 40))));
  EXPECT_EQ(Http("DELETE", server_->url() + "/api/v1/requests").status, 405);
  EXPECT_EQ(Http("GET", server_->url() + "/nope").status, 404);
}

TEST_F(ServerTest, MalformedAndOversizedHeadersGetAnAnswer) {
  std::string bad = RawExchange(server_->port(), "GET / HTTQ/1.1\r\n\r\n");
  EXPECT_THAT(bad, HasSubstr("HTTP/1.1 400"));
  std::string huge = RawExchange(server_->port(), "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " +
                                                      std::string(16 * 1024, 'a') + "\r\n\r\n");
  EXPECT_THAT(huge, HasSubstr("HTTP/1.1 431"));
  std::string ambiguous =
      RawExchange(server_->port(),
                  "POST /api/v1/requests HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                  "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
  EXPECT_THAT(ambiguous, HasSubstr("HTTP/1.1 400"));
  // Keep-alive and pipelining work, with a Date header on every answer.
  std::string two = RawExchange(server_->port(),
                                "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                                "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  size_t first = two.find("HTTP/1.1 200");
  ASSERT_NE(first, std::string::npos);
  EXPECT_NE(two.find("HTTP/1.1 200", first + 1), std::string::npos);
  size_t date = two.find("\r\nDate: ");
  ASSERT_NE(date, std::string::npos);
  EXPECT_NE(two.find("\r\nDate: ", date + 1), std::string::npos);
}

// Security issue 10, finding 1: this one request used to abort both programs.
constexpr char kHugeTrailerRequest[] =
    "GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: ";
TEST_F(ServerTest, AHugeTrailerIsRefusedNotFatal) {
  std::string answer =
      RawExchange(server_->port(), kHugeTrailerRequest + std::string(65535, 'a') + "\r\n\r\n");
  EXPECT_THAT(answer, HasSubstr("HTTP/1.1 431"));
  EXPECT_THAT(answer, HasSubstr("Cache-Control: no-store"));
  EXPECT_EQ(Http("GET", server_->url() + "/healthz").status, 200);
  EXPECT_EQ(server_->Stop(SIGTERM), 0) << "the server was still running and exits cleanly";
}

TEST(TenantSimTest, AHugeTrailerIsRefusedNotFatal) {
  auto sim = ServerProcess::TenantSim({});
  ASSERT_TRUE(sim->Start()) << sim->log();
  std::string answer =
      RawExchange(sim->port(), kHugeTrailerRequest + std::string(65535, 'a') + "\r\n\r\n");
  EXPECT_THAT(answer, HasSubstr("HTTP/1.1 431"));
  EXPECT_EQ(
      RawExchange(sim->port(), "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
          .substr(0, 12),
      "HTTP/1.1 200");
}

// Security issue 10, finding 2: polls abandoned faster than a 60 s wait ends, more of them
// than the server has descriptors, leave it answering within a second.
TEST(ServerConfigTest, AbandonedLongPollsDoNotExhaustDescriptors) {
  ServerProcess server;
  constexpr int kLimit = 256;
  server.LimitOpenFiles(kLimit);
  ASSERT_TRUE(server.Start()) << server.log();
  EXPECT_THAT(server.log(), HasSubstr("open-file limit is low"));
  EXPECT_THAT(server.log(), HasSubstr("max_connections=192"));
  HttpResult c = Submit(server, SubmitBody("ABANDON-1"));
  ASSERT_EQ(c.status, 201) << c.body;
  std::string poll = "GET /api/v1/requests/" + Body(c)["id"].get<std::string>() +
                     "?wait=60 HTTP/1.1\r\nHost: x\r\n\r\n";
  for (int batch = 0; batch < 4; ++batch) {
    std::vector<std::unique_ptr<RawConnection>> polls;
    for (int i = 0; i < 100; ++i) {
      polls.push_back(std::make_unique<RawConnection>(server.port()));
      polls.back()->Send(poll);
    }
    for (size_t i = 0; i < polls.size(); ++i) {
      if (i % 2) polls[i]->Reset();  // half RST, half FIN
    }
  }
  auto start = std::chrono::steady_clock::now();
  HttpResult health = Http("GET", server.url() + "/healthz");
  EXPECT_EQ(health.status, 200) << health.error;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  EXPECT_THAT(server.log(), Not(HasSubstr("Too many open files")));
}

TEST_F(ServerTest, NonUtf8PathIsAnsweredNotFatal) {
  std::string out = RawExchange(server_->port(),
                                "GET /\xff\xfe HTTP/1.1\r\nHost: x\r\n"
                                "Connection: close\r\n\r\n");
  EXPECT_THAT(out, HasSubstr("HTTP/1.1 404"));
  EXPECT_EQ(Http("GET", server_->url() + "/healthz").status, 200);
}

TEST_F(ServerTest, HeadAnswersCarryNoBodySoKeepAliveStaysInStep) {
  std::string out = RawExchange(server_->port(),
                                "HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                                "HEAD /nope HTTP/1.1\r\nHost: x\r\n\r\n"
                                "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  // Three answers; the first two end right after their headers.
  size_t first = out.find("\r\n\r\n");
  ASSERT_NE(first, std::string::npos) << out;
  EXPECT_EQ(out.compare(first + 4, 13, "HTTP/1.1 404 "), 0) << out;
  EXPECT_THAT(out.substr(0, first), HasSubstr("Content-Length: 3"));
  size_t second = out.find("\r\n\r\n", first + 4);
  ASSERT_NE(second, std::string::npos);
  EXPECT_EQ(out.compare(second + 4, 13, "HTTP/1.1 200 "), 0) << out;
  EXPECT_EQ(out.substr(out.size() - 3), "ok\n");
}

TEST(ServerConfigTest, JsonLogsAreOneObjectPerLine) {
  ServerProcess s("LogFormat = \"json\"\n");
  ASSERT_TRUE(s.Start()) << s.log();
  ASSERT_EQ(Http("GET", s.url() + "/api/v1/requests/AAAAAAAAAAAAAAAAAAAAAA\"x").status, 404);
  ASSERT_TRUE(s.WaitForLog("\"status\":404"));
  std::istringstream lines(s.log());
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    json j = json::parse(line, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << line;
    EXPECT_TRUE(j.contains("time") && j.contains("level") && j.contains("msg")) << line;
    ++n;
  }
  EXPECT_GE(n, 3);
}

TEST(ServerConfigTest, SlowAndIdleConnectionsAreClosed) {
  ServerProcess s("IdleTimeoutSeconds = 1\n");
  ASSERT_TRUE(s.Start()) << s.log();
  // A request that never finishes its headers is cut off at the deadline.
  auto start = std::chrono::steady_clock::now();
  std::string out = RawExchange(s.port(), "GET / HTTP/1.1\r\nHost: x\r\n", std::chrono::seconds(5));
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(out.empty()) << out;
  EXPECT_LT(took, std::chrono::seconds(3));
  // An idle keep-alive connection too.
  start = std::chrono::steady_clock::now();
  std::string idle =
      RawExchange(s.port(), "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", std::chrono::seconds(5));
  EXPECT_THAT(idle, HasSubstr("HTTP/1.1 200"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

TEST(ServerConfigTest, ForwardedHeadersOnlyFromTrustedProxies) {
  {
    ServerProcess s;  // trusts nobody
    ASSERT_TRUE(s.Start());
    Http("GET", s.url() + "/healthz", "", {"X-Forwarded-For: 203.0.113.9"});
    EXPECT_TRUE(s.WaitForLog("client=127.0.0.1")) << s.log();
    EXPECT_THAT(s.log(), Not(HasSubstr("203.0.113.9")));
  }
  ServerProcess s("TrustedProxies = [\"127.0.0.1\"]\n");
  ASSERT_TRUE(s.Start());
  HttpResult r =
      Submit(s, SubmitBody("PROXY-1"),
             {"Content-Type: application/json", "X-Forwarded-For: 198.51.100.4, 203.0.113.9",
              "X-Forwarded-Proto: https", "Host: apm.example.org"});
  ASSERT_EQ(r.status, 201);
  EXPECT_EQ(Body(r)["approvalUrl"].get<std::string>().substr(0, 28),
            "https://apm.example.org/auto");
  EXPECT_TRUE(s.WaitForLog("client=203.0.113.9")) << s.log();
}

TEST(ServerConfigTest, ServesTls) {
  std::string dir =
      (std::filesystem::temp_directory_path() / ("apm-tls-" + std::to_string(getpid()))).string();
  std::filesystem::create_directories(dir);
  std::string cmd =
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost -keyout " + dir +
      "/key.pem -out " + dir + "/cert.pem >/dev/null 2>&1";
  ASSERT_EQ(system(cmd.c_str()), 0);
  std::string plain_port = std::to_string(ServerProcess::FreePort());
  ServerProcess s("TlsCertificateFile = \"" + dir + "/cert.pem\"\nTlsKeyFile = \"" + dir +
                  "/key.pem\"\nHttpRedirectListen = \"127.0.0.1:" + plain_port + "\"\n");
  ASSERT_TRUE(s.Start()) << s.log();
  std::string https = "https://127.0.0.1:" + std::to_string(s.port());
  HttpResult r = Http("POST", https + "/api/v1/requests", SubmitBody("TLS-1"), kJson, true);
  ASSERT_EQ(r.status, 201) << r.error;
  EXPECT_EQ(Body(r)["approvalUrl"].get<std::string>().substr(0, 8), "https://");
  EXPECT_NE(Http("GET", s.url() + "/healthz").status, 200);  // plain http is not served
  // ... except by the redirect listener, which serves nothing but the way to https.
  HttpResult redirect = Http("GET", "http://127.0.0.1:" + plain_port + "/healthz?probe=1");
  EXPECT_EQ(redirect.status, 308) << redirect.error;
  EXPECT_EQ(redirect.Header("location"), https + "/healthz?probe=1");
  EXPECT_EQ(Http("GET", redirect.Header("location"), "", {}, true).status, 200);
  std::filesystem::remove_all(dir);
}

// A self-signed certificate for CN=`name`: DIR/NAME.pem and DIR/NAME.key.
void MakeCertificate(const std::string& dir, const std::string& name) {
  std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=" + name +
                    " -keyout " + dir + "/" + name + ".key -out " + dir + "/" + name +
                    ".pem >/dev/null 2>&1";
  ASSERT_EQ(system(cmd.c_str()), 0);
}

// Puts a certificate and key in place the way certbot does: new files renamed over the old.
void InstallCertificate(const std::string& dir, const std::string& cert, const std::string& key) {
  std::filesystem::copy_file(dir + "/" + cert + ".pem", dir + "/cert.pem.new",
                             std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(dir + "/" + key + ".key", dir + "/key.pem.new",
                             std::filesystem::copy_options::overwrite_existing);
  std::filesystem::rename(dir + "/key.pem.new", dir + "/key.pem");
  std::filesystem::rename(dir + "/cert.pem.new", dir + "/cert.pem");
}

// The subject of the certificate a new TLS handshake with the port presents.
std::string PresentedSubject(uint16_t port) {
  std::string cmd = "openssl s_client -connect 127.0.0.1:" + std::to_string(port) +
                    " </dev/null 2>/dev/null | openssl x509 -noout -subject 2>/dev/null";
  std::string out;
  if (FILE* p = popen(cmd.c_str(), "r")) {
    char buf[256];
    while (fgets(buf, sizeof buf, p)) out += buf;
    pclose(p);
  }
  return out;
}

// Waits up to `limit` for new handshakes to present CN=`name`.
bool PresentsWithin(uint16_t port, const std::string& name, std::chrono::seconds limit) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (PresentedSubject(port).find("CN = " + name) == std::string::npos) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  return true;
}

TEST(ServerConfigTest, ANewCertificateIsServedAfterSighupOrAFileChangeWithoutDroppingALongPoll) {
  std::string dir =
      (std::filesystem::temp_directory_path() / ("apm-tls-reload-" + std::to_string(getpid())))
          .string();
  std::filesystem::create_directories(dir);
  for (const char* name : {"first", "second", "third"}) MakeCertificate(dir, name);
  InstallCertificate(dir, "first", "first");
  ServerProcess s("TlsCertificateFile = \"" + dir + "/cert.pem\"\nTlsKeyFile = \"" + dir +
                  "/key.pem\"\n");
  ASSERT_TRUE(s.Start()) << s.log();
  EXPECT_THAT(PresentedSubject(s.port()), HasSubstr("CN = first"));
  std::string https = "https://127.0.0.1:" + std::to_string(s.port());
  HttpResult created = Http("POST", https + "/api/v1/requests", SubmitBody("TLS-R1"), kJson, true);
  ASSERT_EQ(created.status, 201) << created.error;
  std::string status_url = https + "/api/v1/requests/" + Body(created)["id"].get<std::string>();
  std::string etag = Http("GET", status_url, "", {}, true).Header("etag");
  auto started = std::chrono::steady_clock::now();
  auto poll = std::async(std::launch::async, [&] {
    return Http("GET", status_url + "?wait=6", "", {"If-None-Match: " + etag}, true);
  });
  std::this_thread::sleep_for(std::chrono::seconds(1));  // the long-poll is waiting

  InstallCertificate(dir, "second", "second");
  ASSERT_EQ(kill(s.pid(), SIGHUP), 0);
  EXPECT_TRUE(PresentsWithin(s.port(), "second", std::chrono::seconds(3))) << s.log();
  HttpResult polled = poll.get();
  EXPECT_EQ(polled.error, "") << "the long-poll's connection was dropped";
  EXPECT_EQ(polled.status, 304);
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::seconds(6));

  // Renewed files are picked up without a signal.
  InstallCertificate(dir, "third", "third");
  EXPECT_TRUE(PresentsWithin(s.port(), "third", std::chrono::seconds(15))) << s.log();
  // A key that does not match its certificate is refused; the last good pair stays.
  InstallCertificate(dir, "first", "second");
  ASSERT_EQ(kill(s.pid(), SIGHUP), 0);
  EXPECT_TRUE(s.WaitForLog("TLS certificate not reloaded")) << s.log();
  EXPECT_THAT(PresentedSubject(s.port()), HasSubstr("CN = third"));
  EXPECT_EQ(Http("GET", https + "/healthz", "", {}, true).status, 200);
  std::filesystem::remove_all(dir);
}

TEST(ServerBackupTest, ABackupTakenUnderLoadRestoresEveryRequestAcknowledgedBeforeIt) {
  ServerProcess s;
  ASSERT_TRUE(s.Start()) << s.log();
  // Submissions keep arriving from four clients while the backup runs.
  std::mutex mu;
  std::vector<std::pair<std::chrono::steady_clock::time_point, std::string>> acknowledged;
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&, c] {
      for (int i = 0; !stop; ++i) {
        HttpResult r = Http("POST", s.url() + "/api/v1/requests",
                            SubmitBody("BKP" + std::to_string(c) + "X" + std::to_string(i)), kJson);
        auto at = std::chrono::steady_clock::now();
        if (r.status != 201) continue;
        std::lock_guard lock(mu);
        acknowledged.emplace_back(at, Body(r)["id"].get<std::string>());
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(1));
  std::string file = s.data_dir() + "/../backup.db";
  auto backup_started = std::chrono::steady_clock::now();
  std::string out;
  int rc = s.RunCommand({"backup", file}, &out);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // and the load goes on
  stop = true;
  for (auto& t : clients) t.join();
  ASSERT_EQ(rc, 0) << out;
  EXPECT_THAT(out, HasSubstr("requests"));
  EXPECT_NE(s.RunCommand({"backup", file}, &out), 0) << "an existing file is not overwritten";
  EXPECT_THAT(out, HasSubstr("exists"));

  std::vector<std::string> before;
  for (const auto& [at, id] : acknowledged) {
    if (at < backup_started) before.push_back(id);
  }
  ASSERT_GT(before.size(), 20u);
  ASSERT_GT(acknowledged.size(), before.size()) << "submissions went on during the backup";
  // Restore: the copy becomes the store of a new server.
  ServerProcess restored;
  std::filesystem::create_directories(restored.data_dir());
  std::filesystem::copy_file(file, restored.data_dir() + "/apm.db");
  ASSERT_TRUE(restored.Start()) << restored.log();
  int missing = 0;
  for (const std::string& id : before) {
    if (Http("GET", restored.url() + "/api/v1/requests/" + id).status != 200) ++missing;
  }
  EXPECT_EQ(missing, 0) << "of " << before.size() << " acknowledged before the backup started";
}

TEST(ServerConfigTest, BadConfigurationStopsStartupNamingTheKey) {
  ServerProcess unknown("ApprovalMod = true\n");
  EXPECT_FALSE(unknown.Start());
  EXPECT_THAT(unknown.log(), HasSubstr("ApprovalMod"));
  ServerProcess wrong_type("Timeout = \"an hour\"\n");
  EXPECT_FALSE(wrong_type.Start());
  EXPECT_THAT(wrong_type.log(), HasSubstr("Timeout must be an integer"));
  ServerProcess env_bad("", {{"APM_HASH_VERIFICATION", "sometimes"}});
  EXPECT_FALSE(env_bad.Start());
  EXPECT_THAT(env_bad.log(), HasSubstr("HashVerification"));
}

TEST(ServerCommandTest, HashDecodePrintsFields) {
  std::string file =
      (std::filesystem::temp_directory_path() / ("apm-hash-" + std::to_string(getpid()) + ".txt"))
          .string();
  std::ofstream(file) << LaptopHash("DECODE-ME") << "\n";
  FILE* p = popen((ServerProcess::Binary() + " hash decode " + file).c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  EXPECT_EQ(pclose(p), 0);
  json j = json::parse(out);
  EXPECT_EQ(j["serialNumber"], "DECODE-ME");
  EXPECT_EQ(j["manufacturer"], "LENOVO");
  EXPECT_EQ(j["tpmPresent"], true);
  EXPECT_EQ(j["macAddresses"].size(), 2u);
  std::ofstream(file) << "not a hash";
  p = popen((ServerProcess::Binary() + " hash decode " + file).c_str(), "r");
  out.clear();
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  EXPECT_NE(pclose(p), 0);
  EXPECT_THAT(out, HasSubstr("error"));
  std::filesystem::remove(file);
}

TEST_F(ServerTest, ASecondServerOnTheSameDataDirRefusesToStart) {
  std::string out;
  int code = server_->RunCommand({"--listen", "127.0.0.1:0"}, &out);
  EXPECT_EQ(code, 1);
  EXPECT_NE(out.find("another apm-server is already using DataDir"), std::string::npos) << out;
}

}  // namespace
}  // namespace apm::itest
