#include "server/importer/import_engine.h"
#include "server/importer/testing/engine_fixture.h"

#include <gtest/gtest.h>

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <condition_variable>
#include <fstream>
#include <set>

#include "core/testing/hash_builder.h"
#include "server/graph/graph_client.h"
#include "server/http/in_process_outbound_http.h"
#include "server/store/sql_request_store.h"
#include "server/testing/forwarding_graph_api.h"
#include "server/testing/temp_dir.h"
#include "server/testing/test_certificate.h"
#include "tenantsim/graph_model.h"
#include "tenantsim/identity.h"
#include "tenantsim/sim_handler.h"

namespace apm {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST_F(ImportEngineTest, HappyPathWalksEveryStepAndLeavesTheTenantClean) {
  std::string id = Approved("PF3HAPPY", {"Kiosk", "anna@contoso.example", "KIOSK-01", "lobby",
                                         "cli:test", ApprovalAction::kImport, ""});
  RunUntilDone({id});
  StoredRequest r = Get(id);
  ASSERT_EQ(r.state, RequestState::kCompleted)
      << r.step << " " << (r.error ? r.error->message : "");
  std::vector<RequestState> expected = {
      RequestState::kApproved,      RequestState::kImporting,         RequestState::kWaitingForSync,
      RequestState::kAddingToGroup, RequestState::kWaitingForProfile, RequestState::kCompleted};
  EXPECT_EQ(states_[id], expected);

  EXPECT_EQ(model_->ImportCount("PF3HAPPY"), 1);
  RunUntilRecordsDeleted();
  EXPECT_TRUE(model_->ListImports().empty()) << "the import record is deleted";
  auto devices = model_->Devices();
  ASSERT_EQ(devices.size(), 1u);
  EXPECT_EQ(devices[0].serial_number, "PF3HAPPY");
  EXPECT_EQ(devices[0].group_tag, "Kiosk");
  EXPECT_EQ(devices[0].display_name, "KIOSK-01");
  EXPECT_EQ(devices[0].user_principal_name, "anna@contoso.example");
  EXPECT_TRUE(devices[0].profile_status.starts_with("assigned"));
  auto members = model_->GroupMemberIds(model_->profile_group_id());
  ASSERT_EQ(members.size(), 1u);
  EXPECT_EQ(members[0], devices[0].entra_object_id);

  Result<ImportJob> job = store_->GetJob(id);
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->phase, ImportPhase::kDone);
  EXPECT_EQ(job->import_attempts, 1);
  EXPECT_EQ(job->registration_id, devices[0].id);
}

TEST_F(ImportEngineTest, DdsErrorsEndTheJobWithTheirCodeAndWordsAndTheRecordIsDeleted) {
  sim::SimConfig c = FastTenant();
  c.registered_serials = {"PF3ALREADY"};
  c.other_tenant_serials = {"PF3OTHER"};
  Build(c);
  std::string mine = Approved("PF3ALREADY");
  std::string other = Approved("PF3OTHER");
  RunUntilDone({mine, other});
  StoredRequest a = Get(mine);
  ASSERT_EQ(a.state, RequestState::kFailed);
  ASSERT_TRUE(a.error.has_value());
  EXPECT_EQ(a.error->code, 806);
  EXPECT_EQ(a.error->name, "ZtdDeviceAlreadyAssigned");
  EXPECT_NE(a.error->message.find("already registered"), std::string::npos);
  StoredRequest b = Get(other);
  ASSERT_EQ(b.state, RequestState::kFailed);
  EXPECT_EQ(b.error->code, 808);
  EXPECT_NE(b.error->message.find("another organization"), std::string::npos);
  // The users saw the outcome at once; the records go in the background.
  RunUntilRecordsDeleted();
  EXPECT_TRUE(model_->ListImports().empty());
  EXPECT_EQ(
      SimRequests("DELETE /beta/deviceManagement/importedWindowsAutopilotDeviceIdentities/{id}"),
      2);
}

// Waits are timed from this tenant's recent ones (kept in the store, so a restarted engine
// still knows them): fewer polls before a change is likely, and none of the delay added.
TEST_F(ImportEngineTest, WaitsAreTimedFromThisTenantsRecentOnesAlsoAfterARestart) {
  auto import_one = [&](const std::string& serial, int64_t* requests, int64_t* took_ms) {
    int64_t before = AllSimRequests(), started = clock_.NowMs();
    std::string id = Approved(serial);
    RunUntilDone({id});
    ASSERT_EQ(Get(id).state, RequestState::kCompleted);
    *requests = AllSimRequests() - before;
    *took_ms = clock_.NowMs() - started;
  };
  int64_t plain_requests = 0, plain_ms = 0, requests = 0, took_ms = 0;
  for (size_t i = 0; i < StepTimes::kMinSamples; ++i) {
    import_one("PF3LEARN" + std::to_string(i), &requests, &took_ms);
    if (i == 1) plain_requests = requests, plain_ms = took_ms;  // the first also got a token
  }
  clock_.Advance(seconds(1));
  engine_->RunOnce();  // saves what it learnt
  Result<std::vector<StepTime>> kept = store_->RecentStepTimes(50);
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  std::map<ImportPhase, std::vector<int64_t>> by_phase;
  for (const StepTime& t : *kept) by_phase[t.phase].push_back(t.took_ms);
  ASSERT_EQ(by_phase[ImportPhase::kWaitImport].size(), StepTimes::kMinSamples);
  ASSERT_EQ(by_phase[ImportPhase::kWaitProfile].size(), StepTimes::kMinSamples);
  for (int64_t t : by_phase[ImportPhase::kWaitProfile]) {
    EXPECT_GE(t, 40'000) << "the tenant takes 40 s";
    EXPECT_LE(t, 40'000 + 5'000) << "seen within a few polls of it";
  }

  NewEngine();  // a restart: the times come from the store
  import_one("PF3TIMED", &requests, &took_ms);
  EXPECT_LT(requests * 2, plain_requests)  // measured: 14 against 46
      << "timed polls: " << requests << " requests, plain: " << plain_requests;
  EXPECT_LE(took_ms, plain_ms + 1'000) << "the device is not done later for it";
}

TEST_F(ImportEngineTest, AnInvalidHashEndsIn802) {
  StoredRequest r;
  r.id = "req-bad";
  r.serial_number = "PF3BAD";
  r.manufacturer = "LENOVO";
  r.model = "X";
  r.hardware_hash = "T0EAAA==";  // base64, but no hardware hash
  r.hash_fingerprint = "f";
  r.client_address = "192.0.2.1";
  r.api = "v1";
  r.verification = "unverifiable";
  r.step = "Waiting for approval";
  r.created_at = r.updated_at = clock_.NowMs();
  r.expires_at = clock_.NowMs() + 3'600'000;
  ASSERT_TRUE(store_->Create(r, 10, "").ok());
  ASSERT_TRUE(store_->Approve(r.id, Approval{}, clock_.NowMs()).ok());
  RunUntilDone({r.id});
  StoredRequest got = Get(r.id);
  ASSERT_EQ(got.state, RequestState::kFailed);
  EXPECT_EQ(got.error->code, 802);
}

TEST_F(ImportEngineTest, ManyJobsShareImportsAndPollsAndStayUnderThreeRequestsPerDevice) {
  std::vector<std::string> ids;
  for (int i = 0; i < 45; ++i) ids.push_back(Approved("PF3B" + std::to_string(100 + i)));
  RunUntilDone(ids);
  for (const std::string& id : ids) ASSERT_EQ(Get(id).state, RequestState::kCompleted) << id;
  EXPECT_EQ(
      SimRequests("POST /beta/deviceManagement/importedWindowsAutopilotDeviceIdentities/import"),
      3);  // 20 + 20 + 5
  EXPECT_GT(SimRequests("POST /beta/$batch"), 0);
  int64_t per_device_x100 = graph_->http_requests() * 100 / int64_t(ids.size());
  std::string by_route;
  for (const auto& [route, n] : model_->Stats().requests)
    by_route += route + ": " + std::to_string(n) + "\n";
  EXPECT_LE(per_device_x100, 300) << graph_->http_requests() << " Graph requests\n" << by_route;
  EXPECT_EQ(model_->GroupMemberIds(model_->profile_group_id()).size(), ids.size());
  // 45 jobs waiting on their devices: one list of the tenant's devices answers them all, so
  // the throttle-counted operations ($batch members each) stay few per device.
  EXPECT_GT(SimRequests("GET /beta/deviceManagement/windowsAutopilotDeviceIdentities"), 0)
      << by_route;
  RunUntilRecordsDeleted();
  EXPECT_LE(graph_->operations() * 100 / int64_t(ids.size()), 600)
      << graph_->operations() << " operations\n"
      << by_route;
}

TEST_F(ImportEngineTest, InjectedFaultsNeverDuplicateAnImport) {
  sim::SimConfig c = FastTenant();
  c.error_rate = 0.1;
  c.lost_response_rate = 0.05;
  c.drop_rate = 0.05;
  c.seed = 7;
  Build(c);
  std::vector<std::string> ids;
  for (int i = 0; i < 30; ++i) ids.push_back(Approved("PF3F" + std::to_string(100 + i)));
  RunUntilDone(ids);
  auto stats = model_->Stats();
  EXPECT_GT(stats.faults_500 + stats.faults_503, 0);
  EXPECT_GT(stats.lost, 0);
  for (int i = 0; i < 30; ++i) {
    std::string serial = "PF3F" + std::to_string(100 + i);
    EXPECT_EQ(Get(ids[size_t(i)]).state, RequestState::kCompleted) << serial;
    EXPECT_EQ(model_->ImportCount(serial), 1) << serial;
  }
  RunUntilRecordsDeleted();
  EXPECT_TRUE(model_->ListImports().empty());
}

TEST_F(ImportEngineTest, ALostImportAnswerIsReconciledNotRepeated) {
  sim::SimConfig c = FastTenant();
  c.lost_response_rate = 1.0;  // every answer lost: the import happens, we never hear of it
  Build(c);
  std::string id = Approved("PF3LOST");
  engine_->RunOnce();
  EXPECT_EQ(model_->ImportCount("PF3LOST"), 1);
  Result<ImportJob> job = store_->GetJob(id);
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->import_attempts, 1);
  EXPECT_TRUE(job->import_id.empty());

  sim::SimConfig healthy = model_->config();
  healthy.lost_response_rate = 0;
  model_->SetConfig(healthy);
  RunUntilDone({id});
  EXPECT_EQ(Get(id).state, RequestState::kCompleted);
  EXPECT_EQ(model_->ImportCount("PF3LOST"), 1);
  EXPECT_GE(SimRequests("GET /beta/deviceManagement/importedWindowsAutopilotDeviceIdentities"), 1);
}

TEST_F(ImportEngineTest, ARestartedEngineResumesEveryJobFromItsSavedStep) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(Approved("PF3R" + std::to_string(i)));
  // Run until the jobs are spread over several steps, then "crash" (drop the engine).
  for (int i = 0; i < 200; ++i) {
    engine_->RunOnce();
    clock_.Advance(milliseconds(250));
  }
  std::set<RequestState> middle;
  for (const auto& id : ids) middle.insert(Get(id).state);
  EXPECT_EQ(middle.count(RequestState::kCompleted), 0u);
  NewEngine();
  RunUntilDone(ids);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(Get(ids[size_t(i)]).state, RequestState::kCompleted);
    EXPECT_EQ(model_->ImportCount("PF3R" + std::to_string(i)), 1);
  }
}

TEST_F(ImportEngineTest, WithoutAProfileAStepDeadlineFailsTheJobWithAClearMessage) {
  Build(FastTenant(), /*use_profile_group=*/false);
  settings_.profile_deadline = std::chrono::minutes(30);
  NewEngine();
  std::string id = Approved("PF3NOPROFILE");
  RunUntilDone({id}, std::chrono::minutes(45));
  StoredRequest r = Get(id);
  ASSERT_EQ(r.state, RequestState::kFailed);
  EXPECT_EQ(r.error->name, "StepTimedOut");
  EXPECT_NE(r.error->message.find("Waiting for the Autopilot profile"), std::string::npos);
  EXPECT_NE(r.error->message.find("group tag"), std::string::npos);
  // Intune's sync was asked for, but never twice within ten minutes.
  int64_t syncs = SimRequests("POST /beta/deviceManagement/windowsAutopilotSettings/sync");
  EXPECT_GE(syncs, 1);
  EXPECT_LE(syncs, 3);
  EXPECT_EQ(model_->Stats().sync_refused, 0);
}

TEST_F(ImportEngineTest, WithoutWaitingForAProfileTheJobCompletesAfterTheSync) {
  Build(FastTenant(), /*use_profile_group=*/false);
  settings_.wait_for_profile = false;
  NewEngine();
  std::string id = Approved("PF3NOWAIT");
  RunUntilDone({id});
  EXPECT_EQ(Get(id).state, RequestState::kCompleted);
  EXPECT_TRUE(model_->GroupMemberIds(model_->profile_group_id()).empty());
  EXPECT_EQ(states_[id].back(), RequestState::kCompleted);
}

TEST_F(ImportEngineTest, TheBudgetKeepsABurstUnderTheTenantsLimits) {
  sim::SimConfig c = FastTenant();
  c.write_limit = 15;  // scaled down so the burst needs several windows
  c.request_limit = 150;
  Build(c);
  std::vector<std::string> ids;
  for (int i = 0; i < 60; ++i) ids.push_back(Approved("PF3T" + std::to_string(100 + i)));
  RunUntilDone(ids, std::chrono::minutes(120));
  for (const auto& id : ids) ASSERT_EQ(Get(id).state, RequestState::kCompleted);
  EXPECT_EQ(model_->Stats().throttled, 0);
}

TEST_F(ImportEngineTest, ARequestRefusedByGraphFailsWithGraphsWords) {
  // The app lost its group permission: adding to the group is refused (403) until the
  // deadline, and the job says why.
  sim::SimApp app;
  app.client_id = kClient;
  app.client_secret = kSecret;
  app.roles = {"DeviceManagementServiceConfig.ReadWrite.All", "Device.Read.All"};
  identity_->AddApp(app);
  settings_.group_deadline = std::chrono::minutes(5);
  NewEngine();
  std::string id = Approved("PF3NOPERM");
  RunUntilDone({id});
  StoredRequest r = Get(id);
  ASSERT_EQ(r.state, RequestState::kFailed);
  EXPECT_NE(r.error->message.find("Authorization_RequestDenied"), std::string::npos)
      << r.error->message;
}

TEST_F(ImportEngineTest, ARefusedBatchImportIsRetriedDeviceByDeviceWithoutDuplicates) {
  sim::SimConfig c = FastTenant();
  c.max_import_batch = 3;  // the tenant refuses larger /import calls with a 400
  Build(c);
  std::vector<std::string> ids;
  for (int i = 0; i < 6; ++i) ids.push_back(Approved("PF3SOLO" + std::to_string(i)));
  RunUntilDone(ids);
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(Get(ids[size_t(i)]).state, RequestState::kCompleted);
    EXPECT_EQ(model_->ImportCount("PF3SOLO" + std::to_string(i)), 1);
  }
  EXPECT_EQ(SimRequests("POST /beta/deviceManagement/importedWindowsAutopilotDeviceIdentities"), 6);
}

TEST_F(ImportEngineTest, AnImportRecordDeletedBySomeoneElseFailsTheJobInWords) {
  std::string id = Approved("PF3GONE");
  engine_->RunOnce();  // imported; now waiting for the record
  Result<ImportJob> job = store_->GetJob(id);
  ASSERT_TRUE(job.ok());
  ASSERT_EQ(job->phase, ImportPhase::kWaitImport);
  ASSERT_TRUE(model_->DeleteImport(job->import_id));
  RunUntilDone({id});
  StoredRequest r = Get(id);
  ASSERT_EQ(r.state, RequestState::kFailed);
  EXPECT_EQ(r.error->name, "ImportRecordMissing");
  EXPECT_NE(r.error->message.find("disappeared"), std::string::npos);
}

TEST_F(ImportEngineTest, AJobThatWaitedInTheQueueGetsItsFullDeadline) {
  std::string id = Approved("PF3QUEUED");
  clock_.Advance(std::chrono::hours(2));  // no tenant configured, or a long queue
  NewEngine();
  RunUntilDone({id});
  EXPECT_EQ(Get(id).state, RequestState::kCompleted);
}

TEST_F(ImportEngineTest, ACertificateCredentialGetsTokensTheSimulatorVerifies) {
  apm::testing::TestCertificate certificate("apm-server");
  sim::SimApp app;
  app.client_id = kClient;
  app.roles = {"DeviceManagementServiceConfig.ReadWrite.All", "Device.Read.All",
               "GroupMember.ReadWrite.All"};
  app.certificate_pem = certificate.certificate_pem;  // no secret any more
  identity_->AddApp(app);
  std::ofstream(dir_.File("cert.pem")) << certificate.certificate_pem;
  std::ofstream(dir_.File("key.pem")) << certificate.private_key_pem;

  AppCredentials credentials;
  credentials.login_endpoint = "http://sim.test";
  credentials.tenant = "contoso.example";
  credentials.client_id = kClient;
  credentials.certificate_file = dir_.File("cert.pem");
  credentials.private_key_file = dir_.File("key.pem");
  auto tokens = ClientCredentialsTokenSource::Create(credentials, *http_, clock_);
  ASSERT_TRUE(tokens.ok()) << tokens.status().ToString();
  Result<std::string> token = (*tokens)->AccessToken();
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  EXPECT_TRUE(identity_->Authenticate(*token).has_value());

  // The secret no longer works, and the message says what Entra said.
  EXPECT_FALSE(tokens_->AccessToken().ok());
  EXPECT_NE(tokens_->AccessToken().status().message().find("AADSTS"), std::string::npos);

  // A key that is not the certificate's is refused at start-up, naming the file.
  apm::testing::TestCertificate other("other");
  std::ofstream(dir_.File("other-key.pem")) << other.private_key_pem;
  credentials.private_key_file = dir_.File("other-key.pem");
  auto mismatched = ClientCredentialsTokenSource::Create(credentials, *http_, clock_);
  ASSERT_FALSE(mismatched.ok());
  EXPECT_NE(mismatched.status().message().find("other-key.pem"), std::string::npos);
}

// Refuses to delete import records while `refuse` is set (Graph failing); says the write
// budget has no room to spare while `spare` is not; counts the delete calls.
class RefusingDeletes : public apm::testing::ForwardingGraphApi {
 public:
  using ForwardingGraphApi::ForwardingGraphApi;
  std::vector<Status> DeleteImports(std::span<const std::string> ids) override {
    ++delete_calls;
    if (!refuse) return inner_.DeleteImports(ids);
    return std::vector<Status>(ids.size(), Status::Unavailable("Graph answered 503"));
  }
  bool HasSpareWrites() override { return spare; }
  bool refuse = true;
  bool spare = true;
  int delete_calls = 0;
};

TEST_F(ImportEngineTest, AJobMovesOnWhileItsImportRecordWaitsForDeletionAcrossARestart) {
  RefusingDeletes graph(*graph_);
  engine_ = std::make_unique<ImportEngine>(*store_, graph, clock_, settings_);
  std::string id = Approved("PF3LANE");
  RunUntilDone({id});
  EXPECT_EQ(Get(id).state, RequestState::kCompleted);
  EXPECT_EQ(store_->PendingImportDeletions().value(), 1);
  EXPECT_EQ(model_->ListImports().size(), 1u);
  // A restart forgets nothing: the new engine deletes the record once Graph lets it.
  graph.refuse = false;
  engine_ = std::make_unique<ImportEngine>(*store_, graph, clock_, settings_);
  RunUntilRecordsDeleted();
  EXPECT_EQ(store_->PendingImportDeletions().value(), 0);
  EXPECT_TRUE(model_->ListImports().empty());
  EXPECT_EQ(Get(id).state, RequestState::kCompleted);
}

TEST_F(ImportEngineTest, RecordDeletionsWaitWhileTheWriteBudgetHasNoRoomToSpare) {
  RefusingDeletes graph(*graph_);
  graph.refuse = false;
  graph.spare = false;  // user-visible writes are using the budget
  engine_ = std::make_unique<ImportEngine>(*store_, graph, clock_, settings_);
  std::string id = Approved("PF3SPARE");
  RunUntilDone({id});
  EXPECT_EQ(Get(id).state, RequestState::kCompleted);
  EXPECT_EQ(graph.delete_calls, 0);
  EXPECT_EQ(store_->PendingImportDeletions().value(), 1);
  graph.spare = true;
  RunUntilRecordsDeleted();
  EXPECT_EQ(graph.delete_calls, 1);
  EXPECT_TRUE(model_->ListImports().empty());
}

// Blocks Graph reads of one Autopilot device until released, to stand for a slow call.
class SlowDevice : public apm::testing::ForwardingGraphApi {
 public:
  SlowDevice(GraphApi& inner, std::string blocked_serial_id)
      : ForwardingGraphApi(inner), blocked_(std::move(blocked_serial_id)) {}
  void Release() {
    std::lock_guard lock(mu_);
    released_ = true;
    cv_.notify_all();
  }
  bool holding() {
    std::lock_guard lock(mu_);
    return holding_;
  }

  std::vector<Result<std::optional<AutopilotDevice>>> GetAutopilotDevices(
      std::span<const std::string> ids) override {
    auto answers = inner_.GetAutopilotDevices(ids);
    for (const auto& a : answers) {
      if (a.ok() && a->has_value() && (*a)->serial_number == blocked_) {
        std::unique_lock lock(mu_);
        holding_ = true;
        cv_.wait(lock, [this] { return released_; });
        holding_ = false;
      }
    }
    return answers;
  }

 private:
  std::string blocked_;
  std::mutex mu_;  // guards released_ and holding_ (with cv_)
  std::condition_variable cv_;
  bool released_ = false;
  bool holding_ = false;
};

TEST_F(ImportEngineTest, ASlowCallHoldsOnlyItsOwnJob) {
  std::string slow = Approved("PF3SLOW");
  SlowDevice graph(*graph_, "PF3SLOW");
  boost::asio::thread_pool pool(2);
  engine_ = std::make_unique<ImportEngine>(
      *store_, graph, clock_, settings_,
      [&pool](std::function<void()> work) { boost::asio::post(pool, std::move(work)); });
  auto run_until = [&](const std::function<bool()>& done) {
    for (int i = 0; i < 100'000 && !done(); ++i) {
      engine_->RunOnce();
      std::this_thread::sleep_for(std::chrono::microseconds(200));
      clock_.Advance(milliseconds(50));
    }
  };
  // The slow job's call hangs (a Graph call that does not come back)...
  run_until([&] { return graph.holding(); });
  ASSERT_TRUE(graph.holding());
  // ...while a job approved now goes through every step.
  std::string fast = Approved("PF3FAST");
  run_until([&] { return IsTerminal(Get(fast).state); });
  EXPECT_EQ(Get(fast).state, RequestState::kCompleted);
  EXPECT_TRUE(graph.holding()) << "the slow job's call is still running";
  EXPECT_FALSE(IsTerminal(Get(slow).state));
  graph.Release();
  run_until([&] { return IsTerminal(Get(slow).state); });
  EXPECT_EQ(Get(slow).state, RequestState::kCompleted);
  // The pool first: a worker may still be finishing the step that completed the job.
  pool.join();
  engine_.reset();
}

}  // namespace
}  // namespace apm
