// A burst of devices through the whole import: the real apm-server against apm-tenant-sim over
// HTTP. Reports Graph requests per imported device, the total time against the simulator's
// processing time, and how soon the client API shows a change the simulator made.
//
//   import_bench [devices=500] [import_ms=10000] [sync_ms=20000] [profile_ms=20000]
//                [poll_min_seconds=1]
//
// With IMPORT_BENCH_LOG_DIR=DIR it also writes DIR/server.log, DIR/sim.log and DIR/followed.json
// (each device's request id, serial, when its follower first saw each state, and the tenant's
// record of it).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "server_process.h"

using apm::itest::Http;
using apm::itest::HttpResult;
using apm::itest::ServerProcess;
using json = nlohmann::json;

namespace {

constexpr char kProfileGroup[] = "6a1c0f3e-5d2b-4c8a-9e71-2f4b8d0c6a15";

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Percentiles {
  double median = 0, p95 = 0, max = 0;
  size_t n = 0;
};

Percentiles Summarize(std::vector<int64_t> v) {
  Percentiles p;
  p.n = v.size();
  if (v.empty()) return p;
  std::sort(v.begin(), v.end());
  p.median = double(v[v.size() / 2]) / 1000;
  p.p95 = double(v[std::min(v.size() - 1, v.size() * 95 / 100)]) / 1000;
  p.max = double(v.back()) / 1000;
  return p;
}

bool Terminal(const std::string& s) {
  return s == "completed" || s == "failed" || s == "rejected" || s == "expired" ||
         s == "not_allowed";
}

}  // namespace

int main(int argc, char** argv) {
  int devices = argc > 1 ? std::stoi(argv[1]) : 500;
  int64_t import_ms = argc > 2 ? std::stoll(argv[2]) : 10'000;
  int64_t sync_ms = argc > 3 ? std::stoll(argv[3]) : 20'000;
  int64_t profile_ms = argc > 4 ? std::stoll(argv[4]) : 20'000;
  std::string poll_min = argc > 5 ? argv[5] : "1";

  auto sim = ServerProcess::TenantSim({"--admin", "--import-delay-ms=" + std::to_string(import_ms),
                                       "--sync-visible-delay-ms=" + std::to_string(sync_ms / 2),
                                       "--sync-delay-ms=" + std::to_string(sync_ms),
                                       "--profile-delay-ms=" + std::to_string(profile_ms),
                                       std::string("--profile-group-id=") + kProfileGroup});
  if (!sim->Start()) {
    std::fprintf(stderr, "simulator did not start:\n%s\n", sim->log().c_str());
    return 1;
  }
  std::string config =
      "TenantId = \"00000000-0000-4000-8000-000000000001\"\n"
      "ClientId = \"11111111-1111-4111-8111-111111111111\"\n"
      "LoginEndpoint = \"" +
      sim->url() +
      "\"\n"
      "GraphEndpoint = \"" +
      sim->url() +
      "\"\n"
      "UseAutopilotProfileGroup = true\n"
      "AutopilotProfileGroup = \"" +
      kProfileGroup +
      "\"\n"
      "ImportPollMinSeconds = " +
      poll_min +
      "\n"
      "AccessLog = false\n"
      "SubmitBurst = 100000\nSubmitRatePerMinute = 1000000\n"
      // The followers stand for devices at as many addresses: without this, the 257th of them
      // waits for a free connection (503, Retry-After) and its delays measure that cap.
      "MaxOpenRequestsPerAddress = 100000\nMaxConnectionsPerAddress = 0\n";
  ServerProcess server(config, {{"APM_CLIENT_SECRET", "simulator-secret"}});
  if (!server.Start()) {
    std::fprintf(stderr, "server did not start:\n%s\n", server.log().c_str());
    return 1;
  }

  std::vector<std::string> ids, serials;
  for (int i = 0; i < devices; ++i) {
    std::string serial = "BENCH" + std::to_string(100000 + i);
    HttpResult r = Http("POST", server.url() + "/api/v1/requests", apm::itest::SubmitBody(serial),
                        {"Content-Type: application/json"});
    if (r.status != 201) {
      std::fprintf(stderr, "submit failed: %ld %s\n", r.status, r.body.c_str());
      return 1;
    }
    ids.push_back(json::parse(r.body)["id"]);
    serials.push_back(serial);
  }

  // One long-polling follower per device, as the real clients do; each records when it first
  // saw each state.
  std::mutex mu;
  std::vector<std::map<std::string, int64_t>> seen(ids.size());
  std::atomic<int> finished{0};
  std::vector<std::thread> followers;
  for (size_t i = 0; i < ids.size(); ++i) {
    followers.emplace_back([&, i] {
      std::string etag;
      for (;;) {
        std::vector<std::string> headers;
        if (!etag.empty()) headers.push_back("If-None-Match: " + etag);
        HttpResult r =
            Http("GET", server.url() + "/api/v1/requests/" + ids[i] + "?wait=30", "", headers);
        int64_t at = NowMs();
        if (r.status == 304) continue;
        if (r.status != 200) {
          std::this_thread::sleep_for(std::chrono::milliseconds(200));
          continue;
        }
        etag = r.Header("etag");
        std::string state = json::parse(r.body, nullptr, false).value("state", "");
        {
          std::lock_guard lock(mu);
          seen[i].emplace(state, at);
        }
        if (Terminal(state)) {
          ++finished;
          return;
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));

  int64_t start = NowMs();
  for (size_t from = 0; from < ids.size(); from += 100) {
    std::vector<std::string> args = {"request", "approve"};
    for (size_t k = from; k < std::min(ids.size(), from + 100); ++k) args.push_back(ids[k]);
    std::string out;
    if (server.RunCommand(args, &out) != 0) {
      std::fprintf(stderr, "approve failed: %s\n", out.substr(0, 500).c_str());
      return 1;
    }
  }
  int64_t approved = NowMs();
  for (auto& t : followers) t.join();
  int64_t end = NowMs();
  // The import records go in the background after the devices are done: wait for the last
  // (the server's gauge), so that the costs below include their deletes.
  int64_t records_gone = -1;
  for (int64_t give_up = end + 600'000; NowMs() < give_up;) {
    HttpResult m = Http("GET", server.url() + "/metrics");
    const std::string gauge = "\napm_import_record_deletions_pending ";
    size_t at = m.body.find(gauge);
    if (at == std::string::npos) break;  // a server without the background lane
    if (std::stoll(m.body.substr(at + gauge.size())) == 0) {
      records_gone = NowMs();
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }

  json devices_view = json::parse(Http("GET", sim->url() + "/_sim/devices").body);
  json stats = json::parse(Http("GET", sim->url() + "/_sim/stats").body);
  std::map<std::string, json> by_serial;
  for (const json& d : devices_view["autopilotDevices"]) by_serial[d["serialNumber"]] = d;

  // Delay from the simulator's change to the first client answer showing it.
  std::vector<int64_t> import_delay, sync_delay, profile_delay;
  int completed = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    const json& d = by_serial[serials[i]];
    auto at = [&](const char* state) {
      auto it = seen[i].find(state);
      return it == seen[i].end() ? int64_t(-1) : it->second;
    };
    if (at("completed") >= 0) ++completed;
    int64_t imported = d.value("importCompletedAtMs", int64_t(-1));
    int64_t synced = d.value("syncedAtMs", int64_t(-1));
    int64_t assigned = d.value("profileAssignedAtMs", int64_t(-1));
    if (imported >= 0 && at("waiting_for_sync") >= 0)
      import_delay.push_back(at("waiting_for_sync") - imported);
    if (synced >= 0 && at("adding_to_group") >= 0)
      sync_delay.push_back(at("adding_to_group") - synced);
    if (assigned >= 0 && at("completed") >= 0) profile_delay.push_back(at("completed") - assigned);
  }

  // HTTP requests the simulator answered for Graph and tokens ($batch envelopes count once).
  int64_t http_requests = 0, token_requests = 0;
  {
    std::istringstream log(sim->log());
    std::string line;
    while (std::getline(log, line)) {
      if (line.find(" request method=") == std::string::npos) continue;
      if (line.find("route=/_sim") != std::string::npos) continue;
      ++http_requests;
      if (line.find("oauth2/v2.0/token") != std::string::npos) ++token_requests;
    }
  }
  int64_t operations = 0;
  for (const auto& [route, n] : stats["requests"].items()) {
    if (route.find("$batch") == std::string::npos) operations += n.get<int64_t>();
  }

  // For a closer look at a run: both logs and what each follower saw, when asked for.
  if (const char* dir = std::getenv("IMPORT_BENCH_LOG_DIR")) {
    std::ofstream(std::string(dir) + "/server.log") << server.log();
    std::ofstream(std::string(dir) + "/sim.log") << sim->log();
    json followed = json::array();
    for (size_t i = 0; i < ids.size(); ++i) {
      followed.push_back({{"id", ids[i]},
                          {"serial", serials[i]},
                          {"seen", seen[i]},
                          {"tenant", by_serial[serials[i]]}});
    }
    std::ofstream(std::string(dir) + "/followed.json") << followed.dump(1);
  }

  Percentiles imp = Summarize(import_delay), syn = Summarize(sync_delay),
              pro = Summarize(profile_delay);
  std::printf("devices                      %d (completed %d)\n", devices, completed);
  std::printf(
      "simulated processing         import %.0f s + sync %.0f s + profile %.0f s = %.0f s\n",
      import_ms / 1000.0, sync_ms / 1000.0, profile_ms / 1000.0,
      (import_ms + sync_ms + profile_ms) / 1000.0);
  std::printf("approval of all              %.1f s\n", (approved - start) / 1000.0);
  std::printf("total, approval to last done %.1f s\n", (end - start) / 1000.0);
  if (records_gone >= 0) {
    std::printf("import records all deleted   %.1f s after the last device was done\n",
                (records_gone - end) / 1000.0);
  }
  std::printf("Graph HTTP requests          %lld (%.2f per device; %lld token requests)\n",
              (long long)http_requests, double(http_requests) / devices, (long long)token_requests);
  std::printf("Graph operations             %lld (%.2f per device; $batch members counted)\n",
              (long long)operations, double(operations) / devices);
  std::printf("throttled (429)              %d\n", stats["throttled"].get<int>());
  std::printf("delay import done -> client  median %.2f s, p95 %.2f s, max %.2f s (n=%zu)\n",
              imp.median, imp.p95, imp.max, imp.n);
  std::printf("delay synced -> client       median %.2f s, p95 %.2f s, max %.2f s (n=%zu)\n",
              syn.median, syn.p95, syn.max, syn.n);
  std::printf("delay profile -> client      median %.2f s, p95 %.2f s, max %.2f s (n=%zu)\n",
              pro.median, pro.p95, pro.max, pro.n);
  return completed == devices ? 0 : 1;
}
