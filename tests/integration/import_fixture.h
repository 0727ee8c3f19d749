// The import tests' fixture: the real apm-server and apm-tenant-sim on loopback ports, devices
// submitted through the client API and approved with the admin command.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "server_process.h"

namespace apm::itest {

using json = nlohmann::json;

inline const std::vector<std::string> kJson = {"Content-Type: application/json"};

inline nlohmann::json Body(const HttpResult& r) {
  return json::parse(r.body, nullptr, false);
}

class ImportTest : public ::testing::Test {
 protected:
  // A failed test keeps both logs for a look (the temp dirs are removed).
  void TearDown() override {
    if (!HasFailure()) return;
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (auto [process, what] : {std::pair{server_.get(), "server"}, {sim_.get(), "sim"}}) {
      if (!process) continue;
      std::string path = ::testing::TempDir() + "apm-" + name + "-" + what + ".log";
      std::ofstream(path) << process->log();
      std::cerr << "kept " << path << "\n";
    }
  }

  // Seconds-long stages, admin routes on; `extra` adds simulator options.
  void StartSim(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--admin",
                                     "--import-delay-ms=1000",
                                     "--sync-visible-delay-ms=500",
                                     "--sync-delay-ms=1500",
                                     "--profile-delay-ms=1000",
                                     std::string("--profile-group-id=") + kSimProfileGroup};
    args.insert(args.end(), extra.begin(), extra.end());
    sim_ = ServerProcess::TenantSim(args);
    ASSERT_TRUE(sim_->Start()) << sim_->log();
  }

  std::string ServerConfig() const {
    return SimTenantConfig(sim_->url()) +
           "ImportReconcileDelaySeconds = 1\n"
           "SubmitBurst = 10000\n"
           "SubmitRatePerMinute = 100000\n"
           "MaxOpenRequestsPerAddress = 10000\n";
  }

  // `extra` is appended to the configuration; without it the secret comes from the
  // environment, as operators are told to do.
  void StartServer(const std::string& extra = "") {
    std::map<std::string, std::string> env;
    if (extra.empty()) env["APM_CLIENT_SECRET"] = "simulator-secret";
    server_ = std::make_unique<ServerProcess>(ServerConfig() + extra, env);
    ASSERT_TRUE(server_->Start()) << server_->log();
  }

  std::string Submit(const std::string& serial, const std::string& hash = "") {
    json body = json::parse(SubmitBody(serial));
    if (!hash.empty()) body["hardwareHash"] = hash;
    HttpResult r = Http("POST", server_->url() + "/api/v1/requests", body.dump(), kJson);
    EXPECT_EQ(r.status, 201) << r.body;
    return Body(r)["id"];
  }

  void Approve(const std::string& id) {
    std::string out;
    ASSERT_EQ(server_->RunCommand({"request", "approve", id, "--group-tag", "Kiosk"}, &out), 0)
        << out;
  }

  json Status(const std::string& id, int wait = 0) {
    HttpResult r = Http("GET", server_->url() + "/api/v1/requests/" + id +
                                   (wait ? "?wait=" + std::to_string(wait) : ""));
    return Body(r);
  }

  // Follows a request with long-polls until it ends; returns the steps it showed.
  std::vector<std::string> Follow(const std::string& id, json* last,
                                  std::chrono::seconds limit = std::chrono::seconds(60)) {
    std::vector<std::string> steps;
    auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end) {
      json s = Status(id, 5);
      if (!s.is_object() || !s.contains("state")) continue;  // the server is restarting
      std::string state = s["state"];
      if (steps.empty() || steps.back() != state) steps.push_back(state);
      *last = s;
      if (state == "completed" || state == "failed" || state == "rejected" || state == "expired" ||
          state == "not_allowed")
        break;
    }
    return steps;
  }

  // Waits until every request ends; returns their final states.
  std::map<std::string, std::string> WaitAll(const std::vector<std::string>& ids,
                                             std::chrono::seconds limit) {
    std::map<std::string, std::string> final_state;
    auto end = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < end && final_state.size() < ids.size()) {
      for (const auto& id : ids) {
        if (final_state.count(id)) continue;
        json s = Status(id);
        if (!s.is_object() || !s.contains("state")) continue;
        std::string state = s["state"];
        if (state == "completed" || state == "failed") final_state[id] = state;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return final_state;
  }

  // The server's warnings and errors, for failure messages.
  std::string Problems() const {
    std::string out, line;
    std::istringstream in(server_->log());
    int n = 0;
    while (std::getline(in, line) && n < 30) {
      if (line.find(" warning ") != std::string::npos ||
          line.find(" error ") != std::string::npos) {
        out += line + "\n";
        ++n;
      }
    }
    return out;
  }

  json SimStats() { return Body(Http("GET", sim_->url() + "/_sim/stats")); }

  std::unique_ptr<ServerProcess> sim_;
  std::unique_ptr<ServerProcess> server_;
};

}  // namespace apm::itest
