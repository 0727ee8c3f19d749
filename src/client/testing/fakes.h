// Test doubles for the client's seams.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <mutex>

#include "client/diagnostics.h"
#include "client/hardware_probe.h"
#include "client/http_client.h"
#include "client/net_probe.h"
#include "client/profile_detector.h"
#include "client/system.h"
#include "client/ui.h"

namespace apm::client::testing {

// Answers with a handler; records every request.
class FakeHttpClient : public HttpClient {
 public:
  using Handler = std::function<Result<HttpResponse>(const HttpRequest&)>;
  explicit FakeHttpClient(Handler handler) : handler_(std::move(handler)) {}
  Result<HttpResponse> Send(const HttpRequest& request) override {
    {
      std::lock_guard lock(mutex_);
      requests_.push_back(request);
    }
    return handler_(request);
  }
  std::vector<HttpRequest> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  Handler handler_;
  mutable std::mutex mutex_;  // guards requests_
  std::vector<HttpRequest> requests_;
};

inline HttpResponse Answer(int status, std::string body = "",
                           std::vector<std::pair<std::string, std::string>> headers = {}) {
  return HttpResponse{status, std::move(headers), std::move(body)};
}

class FakeNetProbe : public NetProbe {
 public:
  std::function<Status(const std::string&, uint16_t)> tcp = [](const std::string&, uint16_t) {
    return Status::Ok();
  };
  std::function<Result<std::string>(const std::string&)> udp;
  Status TcpConnect(const std::string& host, uint16_t port, std::chrono::milliseconds) override {
    return tcp(host, port);
  }
  Result<std::string> UdpExchange(const std::string& host, uint16_t, const std::string&,
                                  std::chrono::milliseconds) override {
    if (!udp) return Status::Unavailable("no UDP in this test");
    return udp(host);
  }
};

class FakeHardwareProbe : public HardwareProbe {
 public:
  explicit FakeHardwareProbe(Result<DeviceFacts> facts) : facts_(std::move(facts)) {}
  Result<DeviceFacts> Read() override { return facts_; }

 private:
  Result<DeviceFacts> facts_;
};

class FakeProfileDetector : public ProfileDetector {
 public:
  std::optional<ExistingProfile> profile;
  Result<std::optional<ExistingProfile>> Detect() override { return profile; }
};

// Time moves only when the code under test sleeps.
class FakeDeviceClock : public DeviceClock {
 public:
  std::chrono::system_clock::time_point now =
      std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000));
  std::chrono::steady_clock::time_point monotonic{};
  std::vector<std::chrono::milliseconds> sleeps;
  std::chrono::system_clock::time_point Now() override { return now; }
  std::chrono::steady_clock::time_point Monotonic() override { return monotonic; }
  void SleepFor(std::chrono::milliseconds duration) override {
    sleeps.push_back(duration);
    now += duration;
    monotonic += duration;
  }
};

class FakeSystemReport : public SystemReport {
 public:
  std::vector<ZipEntry> files;
  std::vector<ZipEntry> Collect() override { return files; }
};

class FakeRestarter : public Restarter {
 public:
  int restarts = 0;
  Status Restart() override {
    ++restarts;
    return Status::Ok();
  }
};

// Keeps every screen and answers AskFinal from a script (kClose when it runs out).
class RecordingUi : public Ui {
 public:
  std::vector<std::vector<CheckLine>> checks;
  std::vector<Screen> screens;
  std::vector<std::string> logs;
  std::deque<FinalChoice> choices;
  struct Ask {
    bool can_restart, can_retry, can_collect;
    std::chrono::seconds countdown;
  };
  std::vector<Ask> asks;

  void ShowChecks(const std::vector<CheckLine>& lines) override { checks.push_back(lines); }
  void ShowScreen(const Screen& screen) override { screens.push_back(screen); }
  void Log(const std::string& line) override { logs.push_back(line); }
  FinalChoice AskFinal(bool can_restart, bool can_retry, bool can_collect,
                       std::chrono::seconds countdown) override {
    asks.push_back({can_restart, can_retry, can_collect, countdown});
    if (choices.empty()) return FinalChoice::kClose;
    FinalChoice choice = choices.front();
    choices.pop_front();
    return choice;
  }
  // The distinct status lines in the order shown.
  std::vector<std::string> StatusLines() const {
    std::vector<std::string> lines;
    for (const Screen& s : screens) {
      if (lines.empty() || lines.back() != s.status_line) lines.push_back(s.status_line);
    }
    return lines;
  }
};

}  // namespace apm::client::testing
