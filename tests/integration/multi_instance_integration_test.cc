// Three apm-server processes on one PostgreSQL database (a cluster of this test's own, so it
// can be restarted) and apm-tenant-sim: they behave as one service.
#include <gtest/gtest.h>

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <future>
#include <iostream>
#include <random>
#include <thread>

#include "import_fixture.h"
#include "server/store/sql_request_store.h"
#include "server/store/testing/pending_request.h"

namespace apm::itest {
namespace {

using Clock = std::chrono::steady_clock;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class MultiInstanceTest : public ImportTest {
 protected:
  void SetUp() override {
    cluster_ = ::testing::TempDir() + "apm-pg-" + std::to_string(getpid());
    ASSERT_EQ(Cluster("start"), 0);
    std::ifstream in(cluster_ + "/url");
    std::getline(in, url_);
    ASSERT_FALSE(url_.empty());
  }
  void TearDown() override {
    ImportTest::TearDown();
    for (size_t i = 0; HasFailure() && i < servers_.size(); ++i) {
      std::string path = ::testing::TempDir() + "apm-multi-" + std::to_string(getpid()) + "-" +
                         std::to_string(i) + ".log";
      std::ofstream(path) << servers_[i]->log();
      std::cerr << "kept " << path << "\n";
    }
    servers_.clear();
    Cluster("destroy");
  }
  int Cluster(const std::string& action) {
    std::string cmd = std::string(APM_PG_CLUSTER) + " " + action + " " + cluster_;
    return std::system(cmd.c_str());
  }

  void StartServers(int n, const std::string& extra_config = "") {
    for (int i = 0; i < n; ++i) {
      servers_.push_back(std::make_unique<ServerProcess>(
          ServerConfig() + "EngineFailoverSeconds = 3\n" + extra_config,
          std::map<std::string, std::string>{{"APM_CLIENT_SECRET", "simulator-secret"},
                                             {"APM_DATABASE_URL", url_}}));
      ASSERT_TRUE(servers_.back()->Start()) << servers_.back()->log();
    }
  }
  ServerProcess& Any() { return *servers_[rng_() % servers_.size()]; }

  // The instance running the import engine, by its metrics (-1 when none says so yet).
  int EngineHolder() {
    for (size_t i = 0; i < servers_.size(); ++i) {
      if (Metric(*servers_[i], "apm_engine_lease_held") == 1) return int(i);
    }
    return -1;
  }

  // A metric's value on one instance (-1 when it does not answer or lacks the metric).
  int64_t Metric(ServerProcess& s, const std::string& name) {
    HttpResult m = Http("GET", s.url() + "/metrics");
    size_t at = m.body.find("\n" + name + " ");
    if (m.status != 200 || at == std::string::npos) return -1;
    return std::stoll(m.body.substr(at + name.size() + 2));
  }

  // Waits for every request to end (asking any instance), then checks that each completed,
  // that each serial was imported exactly once and that Graph never throttled.
  void ExpectEachImportedOnceWithout429(const std::vector<std::string>& ids,
                                        const std::vector<std::string>& serials,
                                        std::chrono::seconds limit) {
    std::map<std::string, std::string> final_state;
    auto end = Clock::now() + limit;
    while (Clock::now() < end && final_state.size() < ids.size()) {
      for (const auto& id : ids) {
        if (final_state.count(id)) continue;
        json s = Body(Http("GET", Any().url() + "/api/v1/requests/" + id));
        if (s.is_object() && (s["state"] == "completed" || s["state"] == "failed")) {
          final_state[id] = s["state"];
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
    ASSERT_EQ(final_state.size(), ids.size());
    for (const auto& [id, state] : final_state) EXPECT_EQ(state, "completed") << id;
    json stats = SimStats();
    for (const auto& serial : serials) EXPECT_EQ(stats["importsBySerial"][serial], 1) << serial;
    EXPECT_EQ(stats["throttled"], 0) << stats["requests"].dump();
  }

  // Graph requests the simulator has answered, of every route.
  int64_t SimRequests() {
    int64_t n = 0;
    json stats = SimStats();  // kept: a range-for over a temporary's member would dangle
    for (const auto& [route, count] : stats["requests"].items()) n += count.get<int64_t>();
    return n;
  }

  std::string SubmitTo(ServerProcess& s, const std::string& serial) {
    HttpResult r = Http("POST", s.url() + "/api/v1/requests", SubmitBody(serial), kJson);
    EXPECT_EQ(r.status, 201) << r.body;
    return Body(r).value("id", "");
  }

  std::string cluster_, url_;
  std::vector<std::unique_ptr<ServerProcess>> servers_;
  std::mt19937 rng_{7};
};

TEST_F(MultiInstanceTest, ALongPollOnOneInstanceWakesForAChangeMadeThroughAnother) {
  StartSim();
  StartServers(2);
  // The change comes through a store of this process: another writer of the database, whose
  // commit time is known to the microsecond.
  auto writer = SqlRequestStore::OpenPostgres({.url = url_}, {});
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  std::vector<double> wake_ms;
  for (int i = 0; i < 40; ++i) {
    std::string id = SubmitTo(*servers_[0], "PF3WAKE" + std::to_string(100 + i));
    HttpResult first = Http("GET", servers_[1]->url() + "/api/v1/requests/" + id);
    ASSERT_EQ(first.status, 200);
    std::string etag = first.Header("etag");
    auto poll = std::async(std::launch::async, [&] {
      HttpResult r = Http("GET", servers_[1]->url() + "/api/v1/requests/" + id + "?wait=20", "",
                          {"If-None-Match: " + etag});
      return std::pair{r, Clock::now()};
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(150));  // the poll is waiting
    RequestState from[] = {RequestState::kPendingApproval};
    auto changed =
        (*writer)->Transition(id, from, RequestState::kRejected, "Rejected", {}, NowMs());
    Clock::time_point committed = Clock::now();
    ASSERT_TRUE(changed.ok()) << changed.status().ToString();
    auto [answer, woke] = poll.get();
    ASSERT_EQ(answer.status, 200) << answer.body;
    EXPECT_EQ(Body(answer)["state"], "rejected");
    wake_ms.push_back(
        std::max(0.0, std::chrono::duration<double, std::milli>(woke - committed).count()));
  }
  std::sort(wake_ms.begin(), wake_ms.end());
  double median = wake_ms[wake_ms.size() / 2], p95 = wake_ms[wake_ms.size() * 95 / 100];
  std::cout << "cross-instance long-poll wake-up over " << wake_ms.size() << " changes: median "
            << median << " ms, p95 " << p95 << " ms\n";
  EXPECT_LT(p95, 1000.0);
}

TEST_F(MultiInstanceTest, ABurstSurvivesKilledEngineHoldersAndADatabaseRestart) {
  StartSim({"--lost-response-rate=0.02", "--seed=11"});
  StartServers(3);
  std::vector<std::string> ids, serials;
  for (int i = 0; i < 200; ++i) {
    serials.push_back("PF3HA" + std::to_string(1000 + i));
    ids.push_back(SubmitTo(Any(), serials.back()));
  }
  // A few devices follow their request with long-polls on instances they did not submit to.
  std::vector<std::future<std::pair<std::vector<std::string>, json>>> followers;
  for (int i = 0; i < 5; ++i) {
    std::string url = servers_[size_t(i) % 3]->url();
    std::string id = ids[size_t(i) * 40];
    followers.push_back(std::async(std::launch::async, [url, id] {
      std::vector<std::string> seen;
      json last;
      auto end = Clock::now() + std::chrono::seconds(240);
      while (Clock::now() < end) {
        HttpResult r = Http("GET", url + "/api/v1/requests/" + id + "?wait=5");
        json s = Body(r);
        if (!s.is_object() || !s.contains("state")) continue;  // restarting
        if (seen.empty() || seen.back() != s["state"]) seen.push_back(s["state"]);
        last = s;
        if (s["state"] == "completed" || s["state"] == "failed") break;
      }
      return std::pair{seen, last};
    }));
  }
  for (size_t at = 0; at < ids.size(); at += 50) {
    std::vector<std::string> args = {"request", "approve"};
    args.insert(args.end(), ids.begin() + long(at),
                ids.begin() + long(std::min(at + 50, ids.size())));
    args.insert(args.end(), {"--group-tag", "Kiosk"});
    std::string out;
    ASSERT_EQ(Any().RunCommand(args, &out), 0) << out;
  }
  for (int kill = 0; kill < 2; ++kill) {
    std::this_thread::sleep_for(std::chrono::seconds(3));
    int holder = EngineHolder();
    ASSERT_GE(holder, 0) << "no instance runs the engine";
    ServerProcess& dead = *servers_[size_t(holder)];
    uint16_t port = dead.port();
    dead.Kill9();
    if (kill == 0) {
      std::this_thread::sleep_for(std::chrono::seconds(2));
      ASSERT_EQ(Cluster("restart"), 0);  // the database restarts while the engine moves over
    }
    dead.UsePort(port);  // back behind the same address, as behind a load balancer
    ASSERT_TRUE(dead.Start()) << dead.log();
  }
  ExpectEachImportedOnceWithout429(ids, serials, std::chrono::seconds(240));
  for (auto& f : followers) {
    auto [seen, last] = f.get();
    EXPECT_EQ(last["state"], "completed") << last.dump();
    EXPECT_GE(seen.size(), 3u) << "the follower saw only " << seen.size() << " states";
  }
}

TEST_F(MultiInstanceTest, ExpiryAndPurgeRunOnTheLeaseHolderOnlyAndMoveWithIt) {
  StartSim();
  StartServers(3, "MaintenanceIntervalSeconds = 1\n");
  auto writer = SqlRequestStore::OpenPostgres({.url = url_}, {});
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  // A request whose approval time has passed, written behind the instances' backs.
  auto expire_one = [&](const std::string& serial, const std::string& id, ServerProcess& via) {
    StoredRequest r = testing::PendingRequest(id, serial, "192.0.2.9", NowMs() - 120'000);
    r.expires_at = NowMs() - 1'000;
    auto created = (*writer)->Create(r, 50, "");
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    auto end = Clock::now() + std::chrono::seconds(15);
    std::string state;
    while (Clock::now() < end && state != "expired") {
      json answer = Body(Http("GET", via.url() + "/api/v1/requests/" + r.id));
      if (answer.is_object()) state = answer.value("state", "");
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    EXPECT_EQ(state, "expired");
  };
  auto holder_after = [&](std::chrono::seconds limit) {
    auto end = Clock::now() + limit;
    int holder = EngineHolder();
    while (holder < 0 && Clock::now() < end) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      holder = EngineHolder();
    }
    return holder;
  };
  auto runs = [&](size_t i) { return Metric(*servers_[i], "apm_maintenance_runs_total"); };

  int holder = holder_after(std::chrono::seconds(10));
  ASSERT_GE(holder, 0) << "no instance holds the lease";
  expire_one("PF3EXP001", "6a1c2d3e-0000-4000-8000-000000000001", *servers_[size_t(holder)]);
  std::this_thread::sleep_for(std::chrono::seconds(2));
  ASSERT_EQ(holder, EngineHolder()) << "the lease moved without a failure";
  for (size_t i = 0; i < servers_.size(); ++i) {
    if (int(i) == holder) {
      EXPECT_GE(runs(i), 2) << "the holder runs maintenance every second";
    } else {
      EXPECT_EQ(runs(i), 0) << "instance " << i << " ran expiry or purge without the lease";
    }
  }
  // The holder dies: another instance takes the lease and, with it, the maintenance.
  servers_[size_t(holder)]->Kill9();
  std::vector<size_t> alive;
  for (size_t i = 0; i < servers_.size(); ++i) {
    if (int(i) != holder) alive.push_back(i);
  }
  int next = holder_after(std::chrono::seconds(15));  // the dead one answers nothing
  ASSERT_GE(next, 0) << "no instance took the lease over";
  expire_one("PF3EXP002", "6a1c2d3e-0000-4000-8000-000000000002", *servers_[alive[0]]);
  for (size_t i : alive) {
    if (int(i) == next) {
      EXPECT_GE(runs(i), 1) << "the new holder runs maintenance";
    } else {
      EXPECT_EQ(runs(i), 0) << "instance " << i << " ran expiry or purge without the lease";
    }
  }
}

TEST_F(MultiInstanceTest, DbCopyMovesASqliteInstallationToPostgres) {
  StartSim();
  StartServer();  // SQLite in its data directory
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(Submit("PF3COPY" + std::to_string(i)));
  for (int i = 0; i < 3; ++i) Approve(ids[size_t(i)]);
  ASSERT_EQ(WaitAll({ids[0], ids[1], ids[2]}, std::chrono::seconds(60)).size(), 3u);
  ASSERT_EQ(server_->RunCommand({"request", "reject", ids[3], "--reason", "Not ours"}), 0);
  std::map<std::string, std::string> shown;
  for (const auto& id : ids) ASSERT_EQ(server_->RunCommand({"request", "show", id}, &shown[id]), 0);
  ASSERT_EQ(server_->Stop(SIGTERM), 0);

  std::string db = server_->data_dir() + "/apm.db", out;
  ASSERT_EQ(server_->RunCommand({"db", "copy", "--from", db, "--to", url_}, &out), 0) << out;
  EXPECT_NE(out.find("requests: 5 rows copied, counts match"), std::string::npos) << out;
  EXPECT_NE(out.find("import_jobs: 3 rows copied"), std::string::npos) << out;
  // A second copy would mix two installations: refused, nothing written.
  EXPECT_EQ(server_->RunCommand({"db", "copy", "--from", db, "--to", url_}, &out), 1);
  EXPECT_NE(out.find("not empty"), std::string::npos) << out;

  StartServers(1);
  for (const auto& id : ids) {
    std::string again;
    ASSERT_EQ(servers_[0]->RunCommand({"request", "show", id}, &again), 0) << again;
    EXPECT_EQ(again, shown[id]);
    json s = Body(Http("GET", servers_[0]->url() + "/api/v1/requests/" + id));
    EXPECT_EQ(s["id"], id);
  }
  // New requests continue the change feed and the audit trail after the copied ones.
  std::string fresh = SubmitTo(*servers_[0], "PF3COPY9");
  ASSERT_EQ(servers_[0]->RunCommand({"request", "approve", fresh, "--group-tag", "Kiosk"}, &out), 0)
      << out;
  json s = json::object();
  for (int i = 0; i < 60 && s.value("state", "") != "completed"; ++i) {
    json got = Body(Http("GET", servers_[0]->url() + "/api/v1/requests/" + fresh + "?wait=2"));
    if (got.is_object()) s = got;
  }
  EXPECT_EQ(s.value("state", ""), "completed") << s.dump();
  EXPECT_EQ(SimStats()["importsBySerial"]["PF3COPY9"], 1);
}

TEST_F(MultiInstanceTest, WhileTheDatabaseIsDownTheApiAnswers503AndLosesNothing) {
  StartSim();
  StartServers(1);
  std::string before = SubmitTo(*servers_[0], "PF3DOWN1");
  ASSERT_EQ(Cluster("stop"), 0);
  HttpResult refused =
      Http("POST", servers_[0]->url() + "/api/v1/requests", SubmitBody("PF3DOWN2"), kJson);
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_EQ(refused.Header("retry-after"), "5");
  HttpResult healthz = Http("GET", servers_[0]->url() + "/healthz");
  EXPECT_EQ(healthz.status, 200);  // the process lives; readiness is what fails
  EXPECT_EQ(Http("GET", servers_[0]->url() + "/readyz").status, 503);
  ASSERT_EQ(Cluster("start"), 0);
  // Back without a restart of apm-server: the request accepted before is there, the refused
  // one can be sent again.
  json s;
  for (int i = 0; i < 50 && !s.contains("state"); ++i) {
    s = Body(Http("GET", servers_[0]->url() + "/api/v1/requests/" + before));
    if (!s.is_object()) s = json::object();
    if (!s.contains("state")) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(s.value("state", ""), "pending_approval") << s.dump();
  EXPECT_FALSE(SubmitTo(*servers_[0], "PF3DOWN2").empty());
}

TEST_F(MultiInstanceTest, APausedEngineHolderSendsNothingOnceItsLeaseCouldHavePassed) {
  StartSim({});
  StartServers(2);
  std::vector<std::string> ids, serials;
  for (int i = 0; i < 40; ++i) {
    serials.push_back("PF3PAUSE" + std::to_string(100 + i));
    ids.push_back(SubmitTo(Any(), serials.back()));
  }
  std::vector<std::string> args = {"request", "approve"};
  args.insert(args.end(), ids.begin(), ids.end());
  std::string out;
  ASSERT_EQ(Any().RunCommand(args, &out), 0) << out;
  auto end = Clock::now() + std::chrono::seconds(15);
  while (Clock::now() < end && SimRequests() == 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  int holder = EngineHolder();
  ASSERT_GE(holder, 0);
  // The holder's process stops (SIGSTOP; a VM stalled by its host) for longer than a lease.
  ServerProcess& paused = *servers_[size_t(holder)];
  ASSERT_EQ(kill(paused.pid(), SIGSTOP), 0);
  std::this_thread::sleep_for(std::chrono::seconds(5));  // EngineFailoverSeconds = 3
  int64_t before = SimRequests();
  ASSERT_EQ(kill(paused.pid(), SIGCONT), 0);
  // The new holder waits a whole Graph window for what the paused one may have spent, so any
  // request now would be the resumed instance's, sent after its lease may have passed on.
  std::this_thread::sleep_for(std::chrono::seconds(4));
  EXPECT_EQ(SimRequests(), before) << "the resumed instance called Graph without its lease";
  EXPECT_TRUE(paused.WaitForLog("stopping the import engine")) << paused.log();
  EXPECT_EQ(EngineHolder(), 1 - holder);
  EXPECT_TRUE(servers_[size_t(1 - holder)]->WaitForLog("engine taken over"))
      << servers_[size_t(1 - holder)]->log();
  ExpectEachImportedOnceWithout429(ids, serials, std::chrono::seconds(120));
}

}  // namespace
}  // namespace apm::itest
