#include "client/checks.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <condition_variable>

#include "client/testing/fakes.h"

namespace apm::client {
namespace {

using namespace std::chrono;
using testing::Answer;
using testing::FakeDeviceClock;
using testing::FakeHttpClient;
using testing::FakeNetProbe;
using ::testing::HasSubstr;

// An SNTP server answer whose transmit time is `t`.
std::string SntpAnswerFor(system_clock::time_point t) {
  std::string packet(48, '\0');
  packet[0] = 0x24;  // version 4, mode 4 (server)
  packet[1] = 2;     // stratum
  auto since_epoch = duration_cast<microseconds>(t.time_since_epoch()).count();
  uint64_t secs = uint64_t(since_epoch / 1000000) + 2208988800ULL;
  uint64_t fraction = (uint64_t(since_epoch % 1000000) << 32) / 1000000;
  for (int i = 0; i < 4; ++i) {
    packet[40 + i] = char((secs >> (24 - 8 * i)) & 0xff);
    packet[44 + i] = char((fraction >> (24 - 8 * i)) & 0xff);
  }
  return packet;
}

TEST(SntpTest, RequestIsAVersion4ClientPacket) {
  std::string request = SntpRequest();
  ASSERT_EQ(request.size(), 48u);
  EXPECT_EQ(request[0], 0x23);
}

TEST(SntpTest, ReadsTheTransmitTime) {
  auto t = system_clock::time_point(seconds(1'800'000'123)) + milliseconds(250);
  Result<system_clock::time_point> parsed = ParseSntpAnswer(SntpAnswerFor(t));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_LT(std::abs(duration_cast<microseconds>(*parsed - t).count()), 2);
}

TEST(SntpTest, RefusesShortClientAndKissOfDeathPackets) {
  EXPECT_FALSE(ParseSntpAnswer("short").ok());
  EXPECT_FALSE(ParseSntpAnswer(SntpRequest()).ok());  // mode 3 is not an answer
  std::string kod = SntpAnswerFor(system_clock::now());
  kod[1] = 0;
  EXPECT_THAT(ParseSntpAnswer(kod).status().message(), HasSubstr("refused"));
}

TEST(ClassifySkewTest, WarnsFromFiveMinutesAndFailsAboveFifteen) {
  EXPECT_EQ(ClassifySkew(seconds(299)), CheckOutcome::kOk);
  EXPECT_EQ(ClassifySkew(seconds(-300)), CheckOutcome::kWarning);
  EXPECT_EQ(ClassifySkew(seconds(900)), CheckOutcome::kWarning);
  EXPECT_EQ(ClassifySkew(seconds(901)), CheckOutcome::kFailed);
  EXPECT_EQ(ClassifySkew(seconds(-901)), CheckOutcome::kFailed);
}

std::string HttpDate(system_clock::time_point t) {
  std::time_t tt = system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char text[64];
  std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return text;
}

struct CheckFixture : ::testing::Test {
  FakeDeviceClock clock;
  FakeNetProbe net;
  CheckSettings settings;
  CheckFixture() {
    settings.server_url = "https://apm.example";
    settings.endpoints = {{"ztd.dds.microsoft.com", 443}, {"login.live.com", 443}};
  }
};

TEST_F(CheckFixture, AllFineWhenClocksAgreeAndEndpointsAnswer) {
  net.udp = [&](const std::string&) -> Result<std::string> { return SntpAnswerFor(clock.now); };
  FakeHttpClient http([&](const HttpRequest&) -> Result<HttpResponse> {
    return Answer(200, "", {{"Date", HttpDate(clock.now)}});
  });
  CheckReport report = RunChecks(settings, net, http, clock);
  EXPECT_FALSE(report.any_failed);
  ASSERT_EQ(report.lines.size(), 4u);
  for (const CheckLine& line : report.lines) {
    EXPECT_EQ(line.outcome, CheckOutcome::kOk) << line.name << ": " << line.detail;
  }
  EXPECT_EQ(report.lines[0].name, "Clock (time.windows.com)");
  EXPECT_EQ(report.lines[2].name, "ztd.dds.microsoft.com:443");
}

TEST_F(CheckFixture, ASkewedClockFailsAndSaysHowToFixIt) {
  net.udp = [&](const std::string&) -> Result<std::string> {
    return SntpAnswerFor(clock.now + hours(2));
  };
  FakeHttpClient http([&](const HttpRequest&) -> Result<HttpResponse> {
    return Answer(200, "", {{"Date", HttpDate(clock.now - minutes(7))}});
  });
  CheckReport report = RunChecks(settings, net, http, clock);
  EXPECT_TRUE(report.any_failed);
  EXPECT_EQ(report.lines[0].outcome, CheckOutcome::kFailed);
  EXPECT_THAT(report.lines[0].detail, HasSubstr("2 h 00 min behind"));
  EXPECT_THAT(report.lines[0].detail, HasSubstr("w32tm /resync"));
  EXPECT_EQ(report.lines[1].outcome, CheckOutcome::kWarning);
  EXPECT_THAT(report.lines[1].detail, HasSubstr("7 min 00 s ahead"));
}

TEST_F(CheckFixture, UnreachableEndpointsAreNamed) {
  net.tcp = [](const std::string& host, uint16_t) {
    return host == "login.live.com" ? Status::Unavailable("connection timed out") : Status::Ok();
  };
  FakeHttpClient http([&](const HttpRequest&) -> Result<HttpResponse> { return Answer(200); });
  CheckReport report = RunChecks(settings, net, http, clock);
  EXPECT_TRUE(report.any_failed);
  EXPECT_EQ(report.lines[2].outcome, CheckOutcome::kOk);
  EXPECT_EQ(report.lines[3].outcome, CheckOutcome::kFailed);
  EXPECT_THAT(report.lines[3].detail, HasSubstr("connection timed out"));
  // No SNTP answer and no Date header are warnings, not failures.
  EXPECT_EQ(report.lines[0].outcome, CheckOutcome::kWarning);
  EXPECT_EQ(report.lines[1].outcome, CheckOutcome::kWarning);
}

TEST_F(CheckFixture, ChecksRunConcurrently) {
  // Each connect waits until every endpoint check has started: run one after another, the
  // first would give up (and fail) after 5 s.
  settings.endpoints.clear();
  for (int i = 0; i < 12; ++i) settings.endpoints.push_back({"host" + std::to_string(i), 443});
  std::mutex mutex;
  std::condition_variable arrived;
  size_t started = 0;
  net.tcp = [&](const std::string&, uint16_t) {
    std::unique_lock lock(mutex);
    ++started;
    arrived.notify_all();
    bool all =
        arrived.wait_for(lock, seconds(5), [&] { return started == settings.endpoints.size(); });
    return all ? Status::Ok() : Status::Unavailable("ran alone");
  };
  FakeHttpClient http([&](const HttpRequest&) -> Result<HttpResponse> { return Answer(200); });
  CheckReport report = RunChecks(settings, net, http, clock);
  for (size_t i = 2; i < report.lines.size(); ++i) {
    EXPECT_EQ(report.lines[i].outcome, CheckOutcome::kOk) << report.lines[i].detail;
  }
}

TEST_F(CheckFixture, ServerDownIsAFailure) {
  FakeHttpClient http(
      [&](const HttpRequest&) -> Result<HttpResponse> { return Status::Unavailable("refused"); });
  CheckReport report = RunChecks(settings, net, http, clock);
  EXPECT_EQ(report.lines[1].outcome, CheckOutcome::kFailed);
  EXPECT_THAT(report.lines[1].detail, HasSubstr("refused"));
}

}  // namespace
}  // namespace apm::client
