// The import engine's test fixture: the engine against the tenant simulator in-process, on a
// manual clock, with a real SQLite store in a temporary directory.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/testing/hash_builder.h"
#include "server/graph/graph_client.h"
#include "server/graph/token_source.h"
#include "server/http/in_process_outbound_http.h"
#include "server/importer/import_engine.h"
#include "server/store/sql_request_store.h"
#include "server/testing/temp_dir.h"
#include "tenantsim/graph_model.h"
#include "tenantsim/identity.h"
#include "tenantsim/sim_handler.h"

namespace apm {

using std::chrono::milliseconds;
using std::chrono::seconds;

inline constexpr char kTenant[] = "00000000-0000-4000-8000-000000000001";
inline constexpr char kClient[] = "11111111-1111-4111-8111-111111111111";
inline constexpr char kSecret[] = "simulator-secret";

inline sim::SimConfig FastTenant() {
  sim::SimConfig c;
  c.import_delay_ms = 10'000;
  c.sync_visible_delay_ms = 15'000;
  c.sync_delay_ms = 30'000;
  c.profile_delay_ms = 40'000;
  return c;
}

// The engine against the tenant simulator, in-process, on a manual clock: every Graph call is
// real (routing, throttling, faults), nothing waits for real time.
class ImportEngineTest : public ::testing::Test {
 protected:
  void SetUp() override { Build(FastTenant()); }

  void Build(sim::SimConfig sim_config, bool use_profile_group = true) {
    engine_.reset();
    identity_ = std::make_unique<sim::Identity>(clock_, kTenant, "contoso.example");
    sim::SimApp app;
    app.client_id = kClient;
    app.client_secret = kSecret;
    app.roles = {"DeviceManagementServiceConfig.ReadWrite.All",
                 "DeviceManagementManagedDevices.ReadWrite.All", "Device.Read.All",
                 "GroupMember.ReadWrite.All"};
    identity_->AddApp(app);
    model_ = std::make_unique<sim::GraphModel>(clock_, sim_config);
    handler_ = std::make_unique<sim::SimHandler>(*identity_, *model_, clock_);
    http_ = std::make_unique<InProcessOutboundHttp>(*handler_);
    AppCredentials credentials;
    credentials.login_endpoint = "http://sim.test";
    credentials.tenant = kTenant;
    credentials.client_id = kClient;
    credentials.client_secret = kSecret;
    tokens_ = std::move(ClientCredentialsTokenSource::Create(credentials, *http_, clock_)).value();
    GraphClient::Options options;
    options.endpoint = "http://sim.test";
    options.intune_limits.writes_per_window = sim_config.write_limit;
    options.intune_limits.requests_per_window = sim_config.request_limit;
    graph_ =
        std::make_unique<GraphClient>(options, *http_, *tokens_, clock_, [this](milliseconds d) {
          clock_.Advance(d);
          return true;
        });
    if (!store_) {
      auto s = SqlRequestStore::Open(dir_.File("apm.db"));
      ASSERT_TRUE(s.ok()) << s.status().ToString();
      store_ = std::move(s).value();
    }
    settings_ = ImportSettings{};
    settings_.profile_group_id = use_profile_group ? model_->profile_group_id() : "";
    settings_.poll_min = seconds(2);
    settings_.poll_max = seconds(20);
    NewEngine();
  }

  void NewEngine() {
    engine_ = std::make_unique<ImportEngine>(*store_, *graph_, clock_, settings_);
  }

  // A pending request for a laptop with this serial, approved.
  std::string Approved(const std::string& serial, Approval approval = {}) {
    StoredRequest r;
    r.id = "req-" + serial;
    r.serial_number = serial;
    r.manufacturer = "LENOVO";
    r.model = "21R3001BUK";
    r.hardware_hash = testing::HashText(testing::HashBuilder::Laptop(serial).Build());
    r.hash_fingerprint = "f";
    r.client_address = "192.0.2.1";
    r.api = "v1";
    r.verification = "verified";
    r.state = RequestState::kPendingApproval;
    r.step = "Waiting for approval";
    r.created_at = r.updated_at = clock_.NowMs();
    r.expires_at = clock_.NowMs() + 3'600'000;
    EXPECT_TRUE(store_->Create(r, 1000, "").ok());
    auto a = store_->Approve(r.id, approval, clock_.NowMs());
    EXPECT_TRUE(a.ok()) << a.status().ToString();
    return r.id;
  }

  StoredRequest Get(const std::string& id) { return store_->Get(id).value(); }

  // Runs the engine in 250 ms steps of simulated time until every request in `ids` is
  // finished or `limit` has passed; records each request's visible states in order.
  void RunUntilDone(const std::vector<std::string>& ids, milliseconds limit = seconds(3600)) {
    int64_t end = clock_.NowMs() + limit.count();
    auto record = [&] {
      bool all = true;
      for (const std::string& id : ids) {
        StoredRequest r = Get(id);
        auto& seen = states_[id];
        if (seen.empty() || seen.back() != r.state) seen.push_back(r.state);
        all = all && IsTerminal(r.state);
      }
      return all;
    };
    record();
    while (clock_.NowMs() < end) {
      engine_->RunOnce();
      if (record()) return;
      clock_.Advance(milliseconds(250));
    }
  }

  // Runs the engine (its background lane) until no import record waits for deletion, or
  // `limit` of simulated time has passed.
  void RunUntilRecordsDeleted(milliseconds limit = seconds(600)) {
    int64_t end = clock_.NowMs() + limit.count();
    auto pending = [this] {
      Result<int64_t> n = store_->PendingImportDeletions();
      return !n.ok() || *n > 0;
    };
    while (clock_.NowMs() < end && pending()) {
      engine_->RunOnce();
      clock_.Advance(milliseconds(250));
    }
  }

  int64_t SimRequests(const std::string& route) {
    auto stats = model_->Stats();
    auto it = stats.requests.find(route);
    return it == stats.requests.end() ? 0 : it->second;
  }
  int64_t AllSimRequests() {
    int64_t n = 0;
    for (const auto& [route, count] : model_->Stats().requests) n += count;
    return n;
  }

  ManualClock clock_;
  testing::ScopedTempDir dir_{"apm-engine-test"};
  std::unique_ptr<SqlRequestStore> store_;
  std::unique_ptr<sim::Identity> identity_;
  std::unique_ptr<sim::GraphModel> model_;
  std::unique_ptr<sim::SimHandler> handler_;
  std::unique_ptr<InProcessOutboundHttp> http_;
  std::unique_ptr<ClientCredentialsTokenSource> tokens_;
  std::unique_ptr<GraphClient> graph_;
  ImportSettings settings_;
  std::unique_ptr<ImportEngine> engine_;
  std::map<std::string, std::vector<RequestState>> states_;
};

}  // namespace apm
