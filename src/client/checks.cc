#include "client/checks.h"

#include <array>
#include <cstdlib>
#include <thread>

#include "client/catalogue.h"
#include "core/http_date.h"
#include "core/text.h"

namespace apm::client {
namespace {

using std::chrono::seconds;
using std::chrono::system_clock;

// Seconds between the NTP epoch (1900) and the Unix epoch (1970).
constexpr int64_t kNtpToUnix = 2208988800LL;

uint32_t ReadBigEndian32(const std::string& bytes, size_t at) {
  return (uint32_t(uint8_t(bytes[at])) << 24) | (uint32_t(uint8_t(bytes[at + 1])) << 16) |
         (uint32_t(uint8_t(bytes[at + 2])) << 8) | uint32_t(uint8_t(bytes[at + 3]));
}

std::string DescribeSkew(seconds skew) {
  long long s = skew.count();
  if (s == 0) return Text(Msg::kClockOnTime);
  return Text(s > 0 ? Msg::kClockBehind : Msg::kClockAhead, {FormatElapsed(std::llabs(s))});
}

CheckLine ClockLine(std::string name, seconds skew) {
  CheckLine line{std::move(name), ClassifySkew(skew), ""};
  line.detail = DescribeSkew(skew);
  if (line.outcome != CheckOutcome::kOk) line.detail += ". " + Text(Msg::kClockFix);
  if (line.outcome == CheckOutcome::kWarning) line.detail += " " + Text(Msg::kClockMayFailSignIn);
  return line;
}

CheckLine SntpCheck(const CheckSettings& settings, NetProbe& net, DeviceClock& clock) {
  std::string name = Text(Msg::kCheckClockName, {settings.sntp_host});
  auto before = clock.Now();
  Result<std::string> answer =
      net.UdpExchange(settings.sntp_host, 123, SntpRequest(), settings.timeout);
  auto after = clock.Now();
  if (!answer.ok()) {
    return {name, CheckOutcome::kWarning,
            Text(Msg::kTimeServerNoAnswer, {answer.status().message()})};
  }
  Result<system_clock::time_point> server_time = ParseSntpAnswer(*answer);
  if (!server_time.ok()) {
    return {name, CheckOutcome::kWarning, server_time.status().message()};
  }
  auto local = before + (after - before) / 2;
  return ClockLine(name, std::chrono::duration_cast<seconds>(*server_time - local));
}

CheckLine ServerClockCheck(const CheckSettings& settings, HttpClient& http, DeviceClock& clock) {
  std::string name = Text(Msg::kCheckServerClockName);
  HttpRequest request;
  request.method = "HEAD";
  request.url = settings.server_url + "/";
  request.timeout = settings.timeout;
  auto before = clock.Now();
  Result<HttpResponse> answer = http.Send(request);
  auto after = clock.Now();
  if (!answer.ok()) {
    return {name, CheckOutcome::kFailed, Text(Msg::kServerNoAnswer, {answer.status().message()})};
  }
  std::optional<system_clock::time_point> date = ParseHttpDate(answer->Header("Date"));
  if (!date) return {name, CheckOutcome::kWarning, Text(Msg::kServerNoDate)};
  auto local = before + (after - before) / 2;
  // HTTP dates have whole seconds: a skew under 2 s is noise.
  seconds skew = std::chrono::duration_cast<seconds>(*date - local);
  if (std::llabs(skew.count()) < 2) skew = seconds(0);
  return ClockLine(name, skew);
}

CheckLine EndpointCheck(const Endpoint& endpoint, NetProbe& net,
                        std::chrono::milliseconds timeout) {
  std::string name = endpoint.host + ":" + std::to_string(endpoint.port);
  Status reached = net.TcpConnect(endpoint.host, endpoint.port, timeout);
  if (reached.ok()) return {name, CheckOutcome::kOk, Text(Msg::kReachable)};
  return {name, CheckOutcome::kFailed, Text(Msg::kNotReachable, {reached.message()})};
}

}  // namespace

const std::vector<Endpoint>& EnrollmentEndpoints() {
  static const std::vector<Endpoint> endpoints = {
      {"www.msftconnecttest.com", 80},
      {"ztd.dds.microsoft.com", 443},
      {"cs.dds.microsoft.com", 443},
      {"login.live.com", 443},
      {"login.microsoftonline.com", 443},
      {"aadcdn.msauth.net", 443},
      {"licensing.mp.microsoft.com", 443},
      {"enterpriseenrollment.manage.microsoft.com", 443},
      {"enterpriseregistration.windows.net", 443},
      {"portal.manage.microsoft.com", 443},
      {"enrollment.manage.microsoft.com", 443},
      {"device.login.microsoftonline.com", 443},
  };
  return endpoints;
}

std::string SntpRequest() {
  std::string packet(48, '\0');
  packet[0] = 0x23;  // leap indicator 0, version 4, mode 3 (client)
  return packet;
}

Result<system_clock::time_point> ParseSntpAnswer(const std::string& packet) {
  if (packet.size() < 48) return Status::InvalidArgument("the time server's answer is too short");
  int mode = uint8_t(packet[0]) & 7;
  if (mode != 4) return Status::InvalidArgument("the time server's answer is not a server reply");
  if (uint8_t(packet[1]) == 0) {
    return Status::Unavailable("the time server refused to answer (kiss-o'-death)");
  }
  uint32_t secs = ReadBigEndian32(packet, 40);
  uint32_t fraction = ReadBigEndian32(packet, 44);
  if (secs == 0) return Status::InvalidArgument("the time server's answer has no time");
  // Era 1 starts in 2036: values below the Unix epoch's NTP value belong to it.
  int64_t ntp = secs >= uint32_t(kNtpToUnix) ? int64_t(secs) : int64_t(secs) + (1LL << 32);
  auto since_unix =
      seconds(ntp - kNtpToUnix) + std::chrono::microseconds((uint64_t(fraction) * 1000000) >> 32);
  return system_clock::time_point(std::chrono::duration_cast<system_clock::duration>(since_unix));
}

CheckOutcome ClassifySkew(seconds skew) {
  long long s = std::llabs(skew.count());
  if (s > 15 * 60) return CheckOutcome::kFailed;
  if (s >= 5 * 60) return CheckOutcome::kWarning;
  return CheckOutcome::kOk;
}

CheckReport RunChecks(const CheckSettings& settings, NetProbe& net, HttpClient& http,
                      DeviceClock& clock) {
  CheckReport report;
  report.lines.resize(2 + settings.endpoints.size());
  {
    std::vector<std::jthread> workers;
    workers.emplace_back([&] { report.lines[0] = SntpCheck(settings, net, clock); });
    workers.emplace_back([&] { report.lines[1] = ServerClockCheck(settings, http, clock); });
    for (size_t i = 0; i < settings.endpoints.size(); ++i) {
      workers.emplace_back([&, i] {
        report.lines[2 + i] = EndpointCheck(settings.endpoints[i], net, settings.timeout);
      });
    }
  }  // joins every check
  for (const CheckLine& line : report.lines) {
    if (line.outcome == CheckOutcome::kFailed) report.any_failed = true;
  }
  return report;
}

}  // namespace apm::client
