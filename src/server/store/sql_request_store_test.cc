#include "server/store/sql_request_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "server/clock.h"
#include "server/store/sql_create_batch.h"
#include "server/store/testing/pending_request.h"
#include "server/store/testing/sql_store_fixture.h"

namespace apm {
namespace {

// One suite, run on every backend (the Sqlite and Postgres instantiations below).
class SqlRequestStoreTest : public testing::SqlStoreFixture {};

INSTANTIATE_TEST_SUITE_P(Backends, SqlRequestStoreTest,
                         ::testing::Values(testing::Backend::kSqlite, testing::Backend::kPostgres),
                         testing::BackendName);

TEST_P(SqlRequestStoreTest, CreateGetAndSurviveReopen) {
  StoredRequest made = Make("id-1", "SER1");
  made.function_validation = "unanswered";
  made.proposed_group_tag = "Kiosk";
  made.proposed_user = "anna@contoso.com";
  Result<CreateOutcome> c = store_->Create(made, 10, "");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->kind, CreateOutcome::Kind::kCreated);
  EXPECT_EQ(c->request.version, 1);
  EXPECT_EQ(store_->schema_version(), 13);

  Reopen();
  Result<StoredRequest> got = store_->Get("id-1");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->serial_number, "SER1");
  EXPECT_EQ(got->state, RequestState::kPendingApproval);
  EXPECT_EQ(got->manufacturer, "LENOVO");
  EXPECT_FALSE(got->error.has_value());
  EXPECT_EQ(got->function_validation, "unanswered");
  EXPECT_EQ(got->proposed_group_tag, "Kiosk");
  EXPECT_EQ(got->proposed_user, "anna@contoso.com");
  EXPECT_EQ(got->hardware_hash, "");  // status reads do not carry the hash
  Result<StoredRequest> full = store_->GetWithHash("id-1");
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(full->hardware_hash, "T0E=");
  EXPECT_EQ(store_->Get("nope").status().code(), StatusCode::kNotFound);
}

TEST_P(SqlRequestStoreTest, OpenRequestForSerialIsReturnedNotDuplicated) {
  ASSERT_TRUE(store_->Create(Make("id-1", "SER1"), 10, "").ok());
  Result<CreateOutcome> again = store_->Create(Make("id-2", "SER1"), 10, "");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->kind, CreateOutcome::Kind::kExistingOpenForSerial);
  EXPECT_EQ(again->request.id, "id-1");
  EXPECT_EQ(store_->Get("id-2").status().code(), StatusCode::kNotFound);

  // Once the first one is finished, a new request may be created.
  RequestState from[] = {RequestState::kPendingApproval};
  ASSERT_TRUE(store_
                  ->Transition("id-1", from, RequestState::kRejected, "Rejected", std::nullopt,
                               clock_.NowMs())
                  .ok());
  Result<CreateOutcome> third = store_->Create(Make("id-3", "SER1"), 10, "");
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->kind, CreateOutcome::Kind::kCreated);
}

// Security issue 10, finding 3: knowing a serial must not give away its request.
TEST_P(SqlRequestStoreTest, OpenRequestIsReturnedOnlyForTheSameHash) {
  ASSERT_TRUE(store_->Create(Make("id-1", "VICTIM-X"), 10, "").ok());
  for (const char* serial : {"VICTIM-X", "victim-x"}) {
    StoredRequest other = Make("id-2", serial);
    other.hash_fingerprint = "ffffffffffff";
    Result<CreateOutcome> r = store_->Create(other, 10, "guid-x");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->kind, CreateOutcome::Kind::kOpenForSerialWithOtherHash) << serial;
    EXPECT_TRUE(r->request.id.empty());
  }
  EXPECT_EQ(store_->Get("guid-x").status().code(), StatusCode::kNotFound);  // no alias
  EXPECT_EQ(store_->Get("id-2").status().code(), StatusCode::kNotFound);
  // The same hash, in any letter case of the serial, gets the request back.
  Result<CreateOutcome> same = store_->Create(Make("id-3", "Victim-X"), 10, "");
  EXPECT_EQ(same->kind, CreateOutcome::Kind::kExistingOpenForSerial);
  EXPECT_EQ(same->request.id, "id-1");
}

TEST_P(SqlRequestStoreTest, AliasesResolveAndReserveIds) {
  ASSERT_TRUE(store_->Create(Make("id-1", "SER1"), 10, "guid-a").ok());
  EXPECT_EQ(store_->Get("guid-a")->id, "id-1");
  // An alias for a serial with an open request points at that request.
  Result<CreateOutcome> twin = store_->Create(Make("id-2", "SER1"), 10, "guid-b");
  ASSERT_TRUE(twin.ok());
  EXPECT_EQ(twin->kind, CreateOutcome::Kind::kExistingOpenForSerial);
  EXPECT_EQ(store_->Get("guid-b")->id, "id-1");
  // Used ids and aliases cannot be chosen again.
  EXPECT_EQ(store_->Create(Make("id-9", "SER9"), 10, "guid-a")->kind,
            CreateOutcome::Kind::kIdTaken);
  EXPECT_EQ(store_->Create(Make("id-1", "SER8"), 10, "")->kind, CreateOutcome::Kind::kIdTaken);
  EXPECT_TRUE(store_->Get("guid-b").ok());
  EXPECT_EQ(store_->Get("guid-z").status().code(), StatusCode::kNotFound);
}

// One group commit holding every case at once, each seeing the ones before it.
TEST_P(SqlRequestStoreTest, OneBatchDecidesEachCreateAfterTheOnesBeforeIt) {
  using Kind = CreateOutcome::Kind;
  ASSERT_EQ(store_->Create(Make("old", "STORED1"), 10, "guid-old")->kind, Kind::kCreated);
  std::string none, guid_a = "guid-a", guid_b = "guid-b";
  StoredRequest fresh = Make("a", "NEW1", "198.51.100.7"), twin = Make("b", "new1"),
                other_hash = Make("c", "NEW1"), nul = Make("d", std::string("NUL\0X", 5)),
                same_id = Make("a", "NEW2"), stored_twin = Make("e", "stored1"),
                second_at_address = Make("f", "NEW3", "198.51.100.7"),
                third_at_address = Make("g", "NEW4", "198.51.100.7"),
                taken_alias = Make("h", "NEW5");
  other_hash.hash_fingerprint = "ffffffffffff";
  std::vector<CreateItem> items = {{&fresh, 2, &guid_a},           {&twin, 2, &guid_b},
                                   {&other_hash, 2, &none},        {&nul, 2, &none},
                                   {&same_id, 2, &none},           {&stored_twin, 2, &none},
                                   {&second_at_address, 2, &none}, {&third_at_address, 2, &none},
                                   {&taken_alias, 2, &guid_a}};
  auto c = db_.Connect();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  SqlTransaction tx(**c);
  ASSERT_TRUE(tx.BeginWrite().ok());
  Result<std::vector<Result<CreateOutcome>>> got = CreateAll(**c, items);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_TRUE(tx.Commit().ok());
  const std::vector<Result<CreateOutcome>>& o = *got;
  ASSERT_EQ(o.size(), items.size());
  EXPECT_EQ(o[0]->kind, Kind::kCreated);
  EXPECT_EQ(o[1]->kind, Kind::kExistingOpenForSerial) << "a twin in the batch gets the first";
  EXPECT_EQ(o[1]->request.id, "a");
  EXPECT_EQ(o[1]->request.hardware_hash, "") << "as a read returns it";
  EXPECT_EQ(o[2]->kind, Kind::kOpenForSerialWithOtherHash);
  ASSERT_FALSE(o[3].ok());
  EXPECT_EQ(o[3].status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(o[4]->kind, Kind::kIdTaken) << "an id taken earlier in the batch";
  EXPECT_EQ(o[5]->kind, Kind::kExistingOpenForSerial);
  EXPECT_EQ(o[5]->request.id, "old");
  EXPECT_EQ(o[6]->kind, Kind::kCreated);
  EXPECT_EQ(o[7]->kind, Kind::kTooManyOpenForAddress) << "two created at this address already";
  EXPECT_EQ(o[8]->kind, Kind::kIdTaken) << "an alias taken earlier in the batch";
  // And the store reads what the batch wrote, after a reopen.
  Reopen();
  EXPECT_EQ(store_->Get("guid-a")->id, "a");
  EXPECT_EQ(store_->Get("guid-b")->id, "a");
  EXPECT_EQ(store_->GetWithHash("f")->hardware_hash, "T0E=");
  EXPECT_EQ(store_->Get("d").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(QueryInt("SELECT COUNT(DISTINCT change_seq) FROM requests"), 3);
}

TEST_P(SqlRequestStoreTest, CapsOpenRequestsPerAddress) {
  ASSERT_EQ(store_->Create(Make("a", "S1", "198.51.100.7"), 2, "")->kind,
            CreateOutcome::Kind::kCreated);
  ASSERT_EQ(store_->Create(Make("b", "S2", "198.51.100.7"), 2, "")->kind,
            CreateOutcome::Kind::kCreated);
  EXPECT_EQ(store_->Create(Make("c", "S3", "198.51.100.7"), 2, "")->kind,
            CreateOutcome::Kind::kTooManyOpenForAddress);
  EXPECT_EQ(store_->Create(Make("d", "S4", "198.51.100.8"), 2, "")->kind,
            CreateOutcome::Kind::kCreated);
}

TEST_P(SqlRequestStoreTest, TransitionChecksCurrentStateAndRecordsError) {
  ASSERT_TRUE(store_->Create(Make("id-1", "SER1"), 10, "").ok());
  RequestState pending[] = {RequestState::kPendingApproval};
  clock_.Advance(std::chrono::seconds(5));
  Result<StoredRequest> failed = store_->Transition(
      "id-1", pending, RequestState::kFailed, "Import failed",
      RequestError{806, "ZtdDeviceAlreadyAssigned", "already registered"}, clock_.NowMs());
  ASSERT_TRUE(failed.ok()) << failed.status().ToString();
  EXPECT_EQ(failed->version, 2);
  EXPECT_EQ(failed->finished_at, clock_.NowMs());
  ASSERT_TRUE(failed->error.has_value());
  EXPECT_EQ(failed->error->code, 806);
  EXPECT_EQ(failed->error->name, "ZtdDeviceAlreadyAssigned");

  Result<StoredRequest> again = store_->Transition("id-1", pending, RequestState::kRejected,
                                                   "Rejected", std::nullopt, clock_.NowMs());
  EXPECT_EQ(again.status().code(), StatusCode::kFailedPrecondition);
}

TEST_P(SqlRequestStoreTest, ExpiresPendingRequestsWithInjectedClock) {
  ASSERT_TRUE(store_->Create(Make("old", "S1"), 10, "").ok());
  clock_.Advance(std::chrono::minutes(30));
  ASSERT_TRUE(store_->Create(Make("new", "S2"), 10, "").ok());
  clock_.Advance(std::chrono::minutes(31));  // "old" is 61 minutes old, "new" 31

  Result<int64_t> n = store_->ExpirePending(clock_.NowMs());
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1);
  EXPECT_EQ(store_->Get("old")->state, RequestState::kExpired);
  EXPECT_EQ(store_->Get("new")->state, RequestState::kPendingApproval);
  EXPECT_EQ(*store_->ExpirePending(clock_.NowMs()), 0);
}

TEST_P(SqlRequestStoreTest, PurgesOnlyOldFinishedRequests) {
  ASSERT_TRUE(store_->Create(Make("done", "S1"), 10, "").ok());
  ASSERT_TRUE(store_->Create(Make("open", "S2"), 10, "").ok());
  RequestState pending[] = {RequestState::kPendingApproval};
  ASSERT_TRUE(store_
                  ->Transition("done", pending, RequestState::kCompleted, "Ready", std::nullopt,
                               clock_.NowMs())
                  .ok());
  int64_t finished = clock_.NowMs();
  EXPECT_EQ(*store_->PurgeFinishedBefore(finished), 0);
  clock_.Advance(std::chrono::hours(24 * 91));
  EXPECT_EQ(*store_->PurgeFinishedBefore(clock_.NowMs() - int64_t{90} * 24 * 3600 * 1000), 1);
  EXPECT_EQ(store_->Get("done").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->Get("open").ok());
}

TEST_P(SqlRequestStoreTest, ChangeFeedReportsEveryChange) {
  int64_t latest = -1;
  ASSERT_TRUE(store_->ChangesSince(0, &latest).ok());
  EXPECT_EQ(latest, 0);
  ASSERT_TRUE(store_->Create(Make("a", "S1"), 10, "").ok());
  ASSERT_TRUE(store_->Create(Make("b", "S2"), 10, "").ok());
  Result<std::vector<RequestChange>> all = store_->ChangesSince(0, &latest);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ(latest, 2);
  RequestState pending[] = {RequestState::kPendingApproval};
  ASSERT_TRUE(store_
                  ->Transition("a", pending, RequestState::kRejected, "Rejected", std::nullopt,
                               clock_.NowMs())
                  .ok());
  Result<std::vector<RequestChange>> since = store_->ChangesSince(latest, &latest);
  ASSERT_TRUE(since.ok());
  ASSERT_EQ(since->size(), 1u);
  EXPECT_EQ((*since)[0].id, "a");
  EXPECT_EQ((*since)[0].version, 2);
  EXPECT_EQ(latest, 3);
}

TEST_P(SqlRequestStoreTest, CountsAndListsByState) {
  ASSERT_TRUE(store_->Create(Make("a", "S1"), 10, "").ok());
  ASSERT_TRUE(store_->Create(Make("b", "S2"), 10, "").ok());
  RequestState pending[] = {RequestState::kPendingApproval};
  ASSERT_TRUE(store_
                  ->Transition("a", pending, RequestState::kRejected, "Rejected", std::nullopt,
                               clock_.NowMs())
                  .ok());
  auto counts = store_->CountByState();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ((*counts)[RequestState::kPendingApproval], 1);
  EXPECT_EQ((*counts)[RequestState::kRejected], 1);
  EXPECT_EQ((*counts)[RequestState::kCompleted], 0);
  RequestFilter f;
  f.state = RequestState::kRejected;
  auto listed = store_->List(f);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].id, "a");
  EXPECT_TRUE(store_->Ping().ok());
  // The oldest waiting request first, when asked (how long the oldest has waited: /metrics).
  clock_.Advance(std::chrono::seconds(5));
  ASSERT_TRUE(store_->Create(Make("c", "S3"), 10, "").ok());
  RequestFilter waiting;
  waiting.state = RequestState::kPendingApproval;
  ASSERT_EQ(store_->List(waiting)->front().id, "c");
  waiting.oldest_first = true;
  waiting.limit = 1;
  auto oldest = store_->List(waiting);
  ASSERT_TRUE(oldest.ok());
  ASSERT_EQ(oldest->size(), 1u);
  EXPECT_EQ((*oldest)[0].id, "b");
}

TEST_P(SqlRequestStoreTest, ConcurrentCreatesAreGroupCommittedCorrectly) {
  // 8 threads; every serial is submitted by two of them. Exactly one request per serial must
  // exist, and the twin must get that request back.
  constexpr int kThreads = 8, kPerThread = 40;
  std::vector<std::vector<CreateOutcome>> outcomes(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string serial = "S" + std::to_string((t / 2) * kPerThread + i);
        Result<CreateOutcome> c =
            store_->Create(Make("id-" + std::to_string(t) + "-" + std::to_string(i), serial,
                                "addr-" + std::to_string(t)),
                           1000, "");
        ASSERT_TRUE(c.ok()) << c.status().ToString();
        outcomes[size_t(t)].push_back(*c);
      }
    });
  }
  for (auto& th : threads) th.join();
  std::map<std::string, std::string> id_by_serial;
  int created = 0;
  for (const auto& list : outcomes) {
    for (const CreateOutcome& o : list) {
      if (o.kind == CreateOutcome::Kind::kCreated) ++created;
      auto [it, inserted] = id_by_serial.emplace(o.request.serial_number, o.request.id);
      EXPECT_EQ(it->second, o.request.id) << o.request.serial_number;
    }
  }
  EXPECT_EQ(created, kThreads / 2 * kPerThread);
  EXPECT_EQ(id_by_serial.size(), size_t(kThreads / 2 * kPerThread));
  Reopen();  // and all of it is durable
  auto counts = store_->CountByState();
  EXPECT_EQ((*counts)[RequestState::kPendingApproval], kThreads / 2 * kPerThread);
}

TEST_P(SqlRequestStoreTest, ClosedStoreRefusesWork) {
  store_->Close();
  EXPECT_EQ(store_->Get("a").status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(store_->Create(Make("a", "S1"), 10, "").status().code(), StatusCode::kUnavailable);
  EXPECT_FALSE(store_->Ping().ok());
}

TEST_P(SqlRequestStoreTest, RefusesNewerSchema) {
  store_.reset();
  {
    auto c = db_.Connect();
    ASSERT_TRUE(c.ok());
    ASSERT_TRUE((*c)->SetSchemaVersion(99).ok());
  }
  auto s = db_.Open();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("newer"), std::string::npos);
}

TEST_P(SqlRequestStoreTest, ApproveCreatesAJobAndOnlyOnce) {
  ASSERT_TRUE(store_->Create(Make("id-1", "SER1"), 10, "").ok());
  EXPECT_EQ(store_->GetJob("id-1").status().code(), StatusCode::kNotFound);
  Approval a{"Kiosk",
             "anna@contoso.example",
             "PC-01",
             "front desk",
             "helpdesk@contoso.example",
             ApprovalAction::kImport,
             ""};
  Result<StoredRequest> r = store_->Approve("id-1", a, clock_.NowMs());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->state, RequestState::kApproved);
  EXPECT_EQ(r->version, 2);

  Result<StoredRequest> again = store_->Approve("id-1", a, clock_.NowMs());
  EXPECT_EQ(again.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(again.status().message().find("approved"), std::string::npos);

  Reopen();
  Result<ImportJob> job = store_->GetJob("id-1");
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  EXPECT_EQ(job->phase, ImportPhase::kImport);
  EXPECT_EQ(job->approval.group_tag, "Kiosk");
  EXPECT_EQ(job->approval.assigned_user, "anna@contoso.example");
  EXPECT_EQ(job->approval.device_name, "PC-01");
  EXPECT_EQ(job->approval.comment, "front desk");
  EXPECT_EQ(job->approval.approver, "helpdesk@contoso.example");
  EXPECT_EQ(job->approved_at, clock_.NowMs());
  EXPECT_EQ(job->import_attempts, 0);
}

TEST_P(SqlRequestStoreTest, ARepairApprovalStartsWhereItsActionSaysAndKeepsItsProgress) {
  ASSERT_TRUE(store_->Create(Make("id-1", "SER1"), 10, "").ok());
  ASSERT_TRUE(store_->Create(Make("id-2", "SER2"), 10, "").ok());
  Approval re_register{"Kiosk", "", "", "", "helpdesk@contoso.example", ApprovalAction::kImport,
                       ""};
  re_register.action = ApprovalAction::kReRegister;
  re_register.registration_id = "old-1";
  ASSERT_TRUE(store_->Approve("id-1", re_register, clock_.NowMs()).ok());
  Approval update = re_register;
  update.action = ApprovalAction::kUpdateOnly;
  update.registration_id = "old-2";
  ASSERT_TRUE(store_->Approve("id-2", update, clock_.NowMs()).ok());

  Result<ImportJob> job = store_->GetJob("id-1");
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->phase, ImportPhase::kCheckRegistration);
  EXPECT_EQ(job->approval.action, ApprovalAction::kReRegister);
  EXPECT_EQ(job->approval.registration_id, "old-1");
  job->phase = ImportPhase::kDeleteManagedDevice;
  job->old_managed_device_id = "managed-1";
  job->delete_attempts = 1;
  ASSERT_TRUE(store_
                  ->SaveJob(*job, RequestState::kImporting, "Removing the device from Intune",
                            std::nullopt, clock_.NowMs())
                  .ok());
  Reopen();
  job = store_->GetJob("id-1");
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->phase, ImportPhase::kDeleteManagedDevice);
  EXPECT_EQ(job->old_managed_device_id, "managed-1");
  EXPECT_EQ(job->delete_attempts, 1);

  Result<ImportJob> updating = store_->GetJob("id-2");
  ASSERT_TRUE(updating.ok());
  EXPECT_EQ(updating->phase, ImportPhase::kWaitDevice);
  EXPECT_EQ(updating->registration_id, "old-2") << "update only works on the old registration";
}

TEST_P(SqlRequestStoreTest, TheRegistrationLookupIsKeptWithThePendingRequest) {
  ASSERT_TRUE(store_->Create(Make("id-1", "SER1"), 10, "").ok());
  clock_.Advance(std::chrono::seconds(1));
  ASSERT_TRUE(store_->Create(Make("id-2", "SER2"), 10, "").ok());
  Result<std::vector<StoredRequest>> unchecked = store_->PendingWithoutRegistration(10);
  ASSERT_TRUE(unchecked.ok());
  ASSERT_EQ(unchecked->size(), 2u);
  EXPECT_EQ((*unchecked)[0].id, "id-1") << "oldest first";

  const int64_t version = store_->Get("id-1")->version;
  ASSERT_TRUE(store_->SaveRegistration("id-1", R"({"checkedAt":5,"found":[]})", 5).ok());
  Reopen();
  Result<StoredRequest> r = store_->Get("id-1");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->registration, R"({"checkedAt":5,"found":[]})");
  EXPECT_EQ(r->registration_checked_at, 5);
  EXPECT_EQ(r->version, version) << "the client's view did not change";
  unchecked = store_->PendingWithoutRegistration(10);
  ASSERT_EQ(unchecked->size(), 1u);
  EXPECT_EQ((*unchecked)[0].id, "id-2");
  EXPECT_EQ(store_->SaveRegistration("nope", "{}", 5).code(), StatusCode::kNotFound);

  ASSERT_TRUE(store_->Approve("id-2", Approval{}, clock_.NowMs()).ok());
  EXPECT_TRUE(store_->PendingWithoutRegistration(10)->empty()) << "only pending requests";
}

TEST_P(SqlRequestStoreTest, RejectedOrExpiredRequestsCannotBeApproved) {
  ASSERT_TRUE(store_->Create(Make("id-1", "SER1"), 10, "").ok());
  RequestState from[] = {RequestState::kPendingApproval};
  ASSERT_TRUE(store_
                  ->Transition("id-1", from, RequestState::kRejected, "Rejected",
                               RequestError{0, "Rejected", "no"}, clock_.NowMs())
                  .ok());
  Result<StoredRequest> r = store_->Approve("id-1", Approval{}, clock_.NowMs());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("rejected"), std::string::npos);
  EXPECT_EQ(store_->GetJob("id-1").status().code(), StatusCode::kNotFound);
}

TEST_P(SqlRequestStoreTest, SaveJobPersistsProgressAndStateTogether) {
  ASSERT_TRUE(store_->Create(Make("id-1", "SER1"), 10, "").ok());
  ASSERT_TRUE(store_->Create(Make("id-2", "SER2"), 10, "").ok());
  ASSERT_TRUE(store_->Approve("id-1", Approval{}, clock_.NowMs()).ok());
  clock_.Advance(std::chrono::seconds(1));
  ASSERT_TRUE(store_->Approve("id-2", Approval{}, clock_.NowMs()).ok());

  Result<ImportJob> job = store_->GetJob("id-1");
  ASSERT_TRUE(job.ok());
  job->phase = ImportPhase::kWaitImport;
  job->import_attempts = 1;
  job->import_id = "imp-1";
  job->outcome = RequestError{806, "ZtdDeviceAlreadyAssigned", "already registered"};
  int64_t seq_before = 0;
  ASSERT_TRUE(store_->ChangesSince(0, &seq_before).ok());
  Result<StoredRequest> saved =
      store_->SaveJob(*job, RequestState::kImporting, "Waiting", std::nullopt, clock_.NowMs());
  ASSERT_TRUE(saved.ok()) << saved.status().ToString();
  EXPECT_EQ(saved->state, RequestState::kImporting);
  EXPECT_EQ(saved->version, 3);
  // Saving progress without a visible change leaves the version (and ETags) alone.
  job->import_attempts = 2;
  saved = store_->SaveJob(*job, RequestState::kImporting, "Waiting", std::nullopt, clock_.NowMs());
  ASSERT_TRUE(saved.ok());
  EXPECT_EQ(saved->version, 3);
  int64_t seq_after = 0;
  ASSERT_TRUE(store_->ChangesSince(0, &seq_after).ok());
  EXPECT_EQ(seq_after, seq_before + 1);

  Reopen();
  Result<std::vector<ImportJob>> open = store_->OpenJobs(10);
  ASSERT_TRUE(open.ok());
  ASSERT_EQ(open->size(), 2u);
  EXPECT_EQ((*open)[0].request_id, "id-1");  // oldest approval first
  EXPECT_EQ((*open)[0].phase, ImportPhase::kWaitImport);
  EXPECT_EQ((*open)[0].import_attempts, 2);
  EXPECT_EQ((*open)[0].import_id, "imp-1");
  ASSERT_TRUE((*open)[0].outcome.has_value());
  EXPECT_EQ((*open)[0].outcome->code, 806);

  ImportJob done = (*open)[0];
  done.phase = ImportPhase::kDone;
  RequestError failure{806, "ZtdDeviceAlreadyAssigned", "already registered"};
  saved = store_->SaveJob(done, RequestState::kFailed, "Failed", failure, clock_.NowMs());
  ASSERT_TRUE(saved.ok());
  EXPECT_EQ(saved->state, RequestState::kFailed);
  ASSERT_TRUE(saved->error.has_value());
  EXPECT_EQ(saved->error->code, 806);
  EXPECT_NE(saved->finished_at, 0);
  open = store_->OpenJobs(10);
  ASSERT_TRUE(open.ok());
  ASSERT_EQ(open->size(), 1u);
  EXPECT_EQ((*open)[0].request_id, "id-2");

  // Purging the finished request takes its job with it.
  clock_.Advance(std::chrono::seconds(5));
  ASSERT_TRUE(store_->PurgeFinishedBefore(clock_.NowMs()).ok());
  EXPECT_EQ(store_->GetJob("id-1").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace apm

namespace apm {
namespace {

TEST_P(SqlRequestStoreTest, APendingLoginIsTakenOnce) {
  ASSERT_TRUE(store_->SavePendingLogin({"st1", "n1", "v1", "/autopilot/x", 1000}).ok());
  Reopen();
  Result<PendingLogin> login = store_->TakePendingLogin("st1");
  ASSERT_TRUE(login.ok()) << login.status().ToString();
  EXPECT_EQ(login->nonce, "n1");
  EXPECT_EQ(login->code_verifier, "v1");
  EXPECT_EQ(login->return_to, "/autopilot/x");
  EXPECT_EQ(store_->TakePendingLogin("st1").status().code(), StatusCode::kNotFound);
}

TEST_P(SqlRequestStoreTest, SessionsSurviveARestartAndAreKeptByHash) {
  Session s{"secret-session-id", "oid-1",  "tid-1", "ada@contoso", "Ada",
            {"g1", "g2"},        "csrf-1", 1000,    1000};
  ASSERT_TRUE(store_->CreateSession(s).ok());
  Reopen();
  Result<Session> got = store_->GetSession("secret-session-id");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->oid, "oid-1");
  EXPECT_EQ(got->groups, (std::vector<std::string>{"g1", "g2"}));
  EXPECT_EQ(got->csrf_token, "csrf-1");
  // The id itself is not in the database file.
  EXPECT_EQ(QueryInt("SELECT count(*) FROM sessions WHERE id_hash = 'secret-session-id'"), 0);
  EXPECT_EQ(QueryInt("SELECT count(*) FROM sessions"), 1);

  ASSERT_TRUE(store_->TouchSession("secret-session-id", 5000).ok());
  EXPECT_EQ(store_->GetSession("secret-session-id")->last_seen_at, 5000);
  ASSERT_TRUE(store_->DeleteSession("secret-session-id").ok());
  EXPECT_EQ(store_->GetSession("secret-session-id").status().code(), StatusCode::kNotFound);
}

TEST_P(SqlRequestStoreTest, PurgeEndsIdleAndOldSessionsAndStaleLogins) {
  ASSERT_TRUE(store_->CreateSession({"idle", "o", "t", "u", "n", {}, "c", 1000, 2000}).ok());
  ASSERT_TRUE(store_->CreateSession({"old", "o", "t", "u", "n", {}, "c", 500, 9000}).ok());
  ASSERT_TRUE(store_->CreateSession({"fresh", "o", "t", "u", "n", {}, "c", 1000, 9000}).ok());
  ASSERT_TRUE(store_->SavePendingLogin({"stale", "n", "v", "/", 100}).ok());
  ASSERT_TRUE(store_->SavePendingLogin({"new", "n", "v", "/", 9000}).ok());
  Result<int64_t> purged = store_->PurgeSessions(/*idle=*/5000, /*absolute=*/800, /*login=*/1000);
  ASSERT_TRUE(purged.ok());
  EXPECT_EQ(*purged, 2);
  EXPECT_TRUE(store_->GetSession("fresh").ok());
  EXPECT_FALSE(store_->GetSession("idle").ok());
  EXPECT_FALSE(store_->GetSession("old").ok());
  EXPECT_FALSE(store_->TakePendingLogin("stale").ok());
  EXPECT_TRUE(store_->TakePendingLogin("new").ok());
}

TEST_P(SqlRequestStoreTest, AuditEventsNewestFirstAndFiltered) {
  ASSERT_TRUE(store_->AppendAudit({0, 1000, "o1", "ada@c", "10.0.0.1", "sign_in", "", ""}).ok());
  ASSERT_TRUE(
      store_->AppendAudit({0, 2000, "o1", "ada@c", "10.0.0.1", "approve", "R1", "Kiosk"}).ok());
  ASSERT_TRUE(store_->AppendAudit({0, 3000, "", "", "10.0.0.9", "sign_in_failed", "", "x"}).ok());
  Reopen();
  Result<std::vector<AuditEvent>> all = store_->ListAudit({});
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].action, "sign_in_failed");
  EXPECT_EQ((*all)[2].action, "sign_in");
  AuditFilter only_approvals;
  only_approvals.action = "approve";
  Result<std::vector<AuditEvent>> approvals = store_->ListAudit(only_approvals);
  ASSERT_EQ(approvals->size(), 1u);
  EXPECT_EQ((*approvals)[0].request_id, "R1");
  EXPECT_EQ((*approvals)[0].detail, "Kiosk");
  AuditFilter window;
  window.since = 1500;
  window.until = 3000;
  EXPECT_EQ(store_->ListAudit(window)->size(), 1u);
}

}  // namespace
}  // namespace apm

namespace apm {
namespace {

TEST_P(SqlRequestStoreTest, StepsRecordEveryVisibleChange) {
  ASSERT_TRUE(store_->Create(Make("id-s", "SERS"), 10, "").ok());
  const int64_t t0 = store_->Get("id-s")->created_at;
  ASSERT_TRUE(store_
                  ->Approve("id-s",
                            Approval{"Kiosk", "", "", "", "ada", ApprovalAction::kImport, ""},
                            t0 + 2000)
                  .ok());
  ImportJob job = *store_->GetJob("id-s");
  ASSERT_TRUE(
      store_->SaveJob(job, RequestState::kImporting, "Importing", std::nullopt, t0 + 3000).ok());
  // The same state and step again is no new line.
  ASSERT_TRUE(
      store_->SaveJob(job, RequestState::kImporting, "Importing", std::nullopt, t0 + 3500).ok());
  ASSERT_TRUE(
      store_
          ->SaveJob(job, RequestState::kImporting, "Waiting for Autopilot", std::nullopt, t0 + 4000)
          .ok());
  Result<std::vector<RequestStep>> steps = store_->Steps("id-s");
  ASSERT_TRUE(steps.ok()) << steps.status().ToString();
  ASSERT_EQ(steps->size(), 4u);
  EXPECT_EQ((*steps)[0].state, RequestState::kPendingApproval);
  EXPECT_EQ((*steps)[1].state, RequestState::kApproved);
  EXPECT_EQ((*steps)[1].at, t0 + 2000);
  EXPECT_EQ((*steps)[2].step, "Importing");
  EXPECT_EQ((*steps)[3].step, "Waiting for Autopilot");
  EXPECT_EQ((*steps)[3].at, t0 + 4000);
}

}  // namespace
}  // namespace apm

namespace apm {
namespace {

TEST_P(SqlRequestStoreTest, ImportListFiltersBeforeTheLimitNewestApprovalFirst) {
  for (const char* id : {"i-1", "i-2", "i-3", "p-1"}) {
    ASSERT_TRUE(store_->Create(Make(id, std::string("S") + id), 10, "").ok());
  }
  const int64_t t0 = store_->Get("i-1")->created_at;
  // Approved in the order i-2, i-1, i-3; p-1 stays pending (no job: not an import).
  ASSERT_TRUE(
      store_->Approve("i-2", Approval{"", "", "", "", "a", ApprovalAction::kImport, ""}, t0 + 1000)
          .ok());
  ASSERT_TRUE(
      store_->Approve("i-1", Approval{"", "", "", "", "a", ApprovalAction::kImport, ""}, t0 + 2000)
          .ok());
  ASSERT_TRUE(
      store_->Approve("i-3", Approval{"", "", "", "", "a", ApprovalAction::kImport, ""}, t0 + 3000)
          .ok());
  ImportJob job = *store_->GetJob("i-3");
  ASSERT_TRUE(store_->SaveJob(job, RequestState::kCompleted, "Done", std::nullopt, t0 + 4000).ok());
  auto ids = [&](RequestFilter f) {
    std::vector<std::string> out;
    Result<std::vector<StoredRequest>> listed = store_->List(f);
    EXPECT_TRUE(listed.ok());
    for (const StoredRequest& r : *listed) out.push_back(r.id);
    return out;
  };
  RequestFilter all;
  all.imported_only = true;
  EXPECT_EQ(ids(all), (std::vector<std::string>{"i-3", "i-1", "i-2"}));
  RequestFilter window = all;
  window.approved_from = t0 + 1500;
  window.approved_to = t0 + 2500;
  EXPECT_EQ(ids(window), (std::vector<std::string>{"i-1"}));
  RequestFilter completed = all;
  completed.state = RequestState::kCompleted;
  completed.limit = 1;  // the filter applies before the limit
  EXPECT_EQ(ids(completed), (std::vector<std::string>{"i-3"}));
  RequestFilter approved = all;
  approved.state = RequestState::kApproved;
  approved.limit = 1;
  EXPECT_EQ(ids(approved), (std::vector<std::string>{"i-1"}));
}

std::string Lease(const Result<LeaseGrant>& r) {
  if (!r.ok()) return r.status().ToString();
  return r->held ? "held" : "refused";
}

TEST_P(SqlRequestStoreTest, ALeaseHasOneHolderUntilItRunsOutOrIsGivenUp) {
  EXPECT_EQ(Lease(store_->TryLease("engine", "a", 60'000)), "held");
  EXPECT_EQ(Lease(store_->TryLease("engine", "b", 60'000)), "refused");
  EXPECT_EQ(Lease(store_->TryLease("engine", "a", 60'000)), "held");  // renewed
  ASSERT_TRUE(store_->ReleaseLease("engine", "b").ok());              // not b's: kept
  EXPECT_EQ(Lease(store_->TryLease("engine", "b", 60'000)), "refused");
  ASSERT_TRUE(store_->ReleaseLease("engine", "a").ok());
  // a gave it up: b takes it, and learns that a's time ended just now.
  Result<LeaseGrant> b = store_->TryLease("engine", "b", 50);
  ASSERT_TRUE(b.ok() && b->held);
  EXPECT_TRUE(b->from_other);
  EXPECT_LE(b->other_until_ms, 0);
  EXPECT_GT(b->other_until_ms, -5'000);
  // b does not renew: after its time (by the database's clock) a takes over.
  std::this_thread::sleep_for(std::chrono::milliseconds(120));
  Result<LeaseGrant> a = store_->TryLease("engine", "a", 60'000);
  ASSERT_TRUE(a.ok() && a->held);
  EXPECT_TRUE(a->from_other);
  EXPECT_LT(a->other_until_ms, -60);  // b's time ran out at least 70 ms ago
  EXPECT_FALSE(store_->TryLease("engine", "a", 60'000)->from_other);  // its own renewal
  EXPECT_EQ(Lease(store_->TryLease("other", "b", 60'000)), "held");   // names are apart
}

TEST_P(SqlRequestStoreTest, AFencedEngineSavesNothingOnceItsLeasePassedOn) {
  ASSERT_TRUE(store_->Create(Make("id-1", "SER1"), 10, "").ok());
  ASSERT_TRUE(store_->Approve("id-1", Approval{}, clock_.NowMs()).ok());
  store_->FenceJobsWith("engine", "a");
  Result<ImportJob> job = store_->GetJob("id-1");
  ASSERT_TRUE(job.ok());
  job->phase = ImportPhase::kWaitImport;
  auto save = [&] {
    return store_->SaveJob(*job, RequestState::kImporting, "Waiting", std::nullopt, clock_.NowMs());
  };
  EXPECT_EQ(save().status().code(), StatusCode::kFailedPrecondition);  // no lease yet
  ASSERT_EQ(Lease(store_->TryLease("engine", "a", 60'000)), "held");
  ASSERT_TRUE(save().ok());
  ASSERT_TRUE(store_->ReleaseLease("engine", "a").ok());
  ASSERT_EQ(Lease(store_->TryLease("engine", "b", 60'000)), "held");
  job->phase = ImportPhase::kWaitDevice;
  Result<StoredRequest> late = save();
  EXPECT_EQ(late.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(late.status().message().find("engine lease"), std::string::npos);
  EXPECT_EQ(store_->GetJob("id-1")->phase, ImportPhase::kWaitImport);  // b's view, untouched
}

TEST_P(SqlRequestStoreTest, ASaveThatLetsAnImportRecordGoQueuesItsDeletionUntilDone) {
  ASSERT_TRUE(store_->Create(Make("id-1", "SER1"), 10, "").ok());
  ASSERT_TRUE(store_->Approve("id-1", Approval{}, clock_.NowMs()).ok());
  Result<ImportJob> job = store_->GetJob("id-1");
  ASSERT_TRUE(job.ok());
  job->phase = ImportPhase::kWaitDevice;
  job->registration_id = "reg-1";
  job->import_id_to_delete = "imp-1";
  int64_t at = clock_.NowMs();
  ASSERT_TRUE(
      store_->SaveJob(*job, RequestState::kWaitingForSync, "Waiting", std::nullopt, at).ok());
  // Saved again (a retry of the same save): still one deletion.
  ASSERT_TRUE(
      store_->SaveJob(*job, RequestState::kWaitingForSync, "Waiting", std::nullopt, at).ok());
  EXPECT_TRUE(store_->GetJob("id-1")->import_id_to_delete.empty()) << "not a column";
  EXPECT_EQ(store_->PendingImportDeletions().value(), 1);
  Result<std::vector<ImportRecordDeletion>> due = store_->DueImportDeletions(at, 10);
  ASSERT_TRUE(due.ok()) << due.status().ToString();
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ((*due)[0].import_id, "imp-1");
  EXPECT_EQ((*due)[0].request_id, "id-1");
  EXPECT_EQ((*due)[0].queued_at, at);
  EXPECT_EQ((*due)[0].attempts, 0);
  // Graph refused it for now: not due again before the retry time.
  ASSERT_TRUE(store_->FinishImportDeletions({}, {"imp-1"}, at + 5'000).ok());
  EXPECT_TRUE(store_->DueImportDeletions(at + 4'999, 10)->empty());
  due = store_->DueImportDeletions(at + 5'000, 10);
  ASSERT_EQ(due->size(), 1u);
  EXPECT_EQ((*due)[0].attempts, 1);
  ASSERT_TRUE(store_->FinishImportDeletions({"imp-1"}, {}, 0).ok());
  EXPECT_EQ(store_->PendingImportDeletions().value(), 0);
  EXPECT_TRUE(store_->DueImportDeletions(at + 60'000, 10)->empty());
}

TEST_P(SqlRequestStoreTest, StepTimesKeepTheNewestOfEachPhaseAcrossARestart) {
  std::vector<StepTime> times;
  for (int i = 0; i < kStepTimesKept + 30; ++i) {
    times.push_back({.phase = ImportPhase::kWaitImport, .took_ms = 1'000 + i, .finished_at = i});
  }
  times.push_back({.phase = ImportPhase::kWaitProfile, .took_ms = 20'000, .finished_at = 7});
  ASSERT_TRUE(store_->RecordStepTimes(times).ok());
  ASSERT_TRUE(store_->RecordStepTimes({}).ok());
  EXPECT_EQ(QueryInt("SELECT COUNT(*) FROM step_times"), kStepTimesKept + 1) << "older ones go";
  Reopen();
  Result<std::vector<StepTime>> recent = store_->RecentStepTimes(3);
  ASSERT_TRUE(recent.ok()) << recent.status().ToString();
  ASSERT_EQ(recent->size(), 4u);
  // Per phase, the newest three, oldest first.
  EXPECT_EQ((*recent)[0].phase, ImportPhase::kWaitImport);
  EXPECT_EQ((*recent)[0].took_ms, 1'000 + kStepTimesKept + 27);
  EXPECT_EQ((*recent)[0].finished_at, kStepTimesKept + 27);
  EXPECT_EQ((*recent)[2].took_ms, 1'000 + kStepTimesKept + 29);
  EXPECT_EQ((*recent)[3].phase, ImportPhase::kWaitProfile);
  EXPECT_EQ((*recent)[3].took_ms, 20'000);
}

// PostgreSQL only: the server ends the store's connections (a restart or failover does the
// same); the next calls fail as unavailable at most once, then work on new connections.
TEST(PostgresStoreTest, ReconnectsAfterTheDatabaseEndsItsConnections) {
  testing::TestDatabase db(testing::Backend::kPostgres);
  auto opened = db.Open();
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  SqlRequestStore& store = **opened;
  ManualClock clock;
  StoredRequest r;
  r.id = "id-1";
  r.serial_number = "SER1";
  r.hardware_hash = "T0E=";
  r.client_address = "192.0.2.1";
  r.api = "v1";
  r.verification = "verified";
  r.step = "Waiting for approval";
  r.created_at = r.updated_at = clock.NowMs();
  r.expires_at = clock.NowMs() + 60'000;
  ASSERT_TRUE(store.Create(r, 10, "").ok());
  ASSERT_TRUE(store.Get("id-1").ok());
  {
    auto admin = db.Connect();
    ASSERT_TRUE(admin.ok());
    std::string kill =
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
        "application_name = '" +
        db.ApplicationName() +
        "' AND pid <> "
        "pg_backend_pid()";
    ASSERT_TRUE((*admin)->Exec(kill.c_str()).ok());
  }
  auto read = store.Get("id-1");
  if (!read.ok()) {
    EXPECT_EQ(read.status().code(), StatusCode::kUnavailable);
  }
  EXPECT_TRUE(store.Get("id-1").ok());
  r.id = "id-2";
  r.serial_number = "SER2";
  auto created = store.Create(r, 10, "");
  if (!created.ok()) {
    EXPECT_EQ(created.status().code(), StatusCode::kUnavailable);
  }
  if (!created.ok()) created = store.Create(r, 10, "");
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(store.CountByState()->at(RequestState::kPendingApproval), 2);
}

// PostgreSQL only: the test cluster speaks TLS on TCP; libpq's sslmode in the URL is honoured.
TEST(PostgresStoreTest, TlsToTheDatabaseIsHonoured) {
  std::string url_file =
      std::getenv("APM_TEST_DATABASE_URL_FILE") ? std::getenv("APM_TEST_DATABASE_URL_FILE") : "";
  std::ifstream port_file(url_file.substr(0, url_file.rfind('/')) + "/port");
  std::string port;
  ASSERT_TRUE(std::getline(port_file, port)) << "no port file beside " << url_file;
  std::string base = "host=127.0.0.1 port=" + port + " dbname=postgres user=postgres";
  auto tls = PgConnection::Open({.url = base + " sslmode=require"});
  ASSERT_TRUE(tls.ok()) << tls.status().ToString();
  auto q = (*tls)->Statement("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
  ASSERT_TRUE(q.ok());
  ASSERT_EQ(q->Step(), SqlStep::kRow);
  EXPECT_EQ(q->Text(0), "t");
  // verify-full needs a certificate the client trusts: the self-signed one is refused.
  auto strict = PgConnection::Open({.url = base + " sslmode=verify-full sslrootcert=system"});
  EXPECT_FALSE(strict.ok());
}

}  // namespace
}  // namespace apm

namespace apm {
namespace {

TEST_P(SqlRequestStoreTest, TimelinesOfRecentlyChangedRequestsCarryTheirStepsAndError) {
  for (const char* id : {"t-old", "t-done", "t-failed"}) {
    ASSERT_TRUE(store_->Create(Make(id, std::string("S") + id), 10, "").ok());
  }
  const int64_t t0 = store_->Get("t-done")->created_at;
  const Approval approval{"", "", "", "", "ada", ApprovalAction::kImport, ""};
  ASSERT_TRUE(store_->Approve("t-done", approval, t0 + 1000).ok());
  ImportJob job = *store_->GetJob("t-done");
  ASSERT_TRUE(
      store_->SaveJob(job, RequestState::kImporting, "Importing", std::nullopt, t0 + 2000).ok());
  ASSERT_TRUE(store_->SaveJob(job, RequestState::kCompleted, "Done", std::nullopt, t0 + 9000).ok());
  ASSERT_TRUE(store_->Approve("t-failed", approval, t0 + 1500).ok());
  ImportJob failed = *store_->GetJob("t-failed");
  const RequestError error{806, "ZtdDeviceAlreadyAssigned", "assigned elsewhere"};
  ASSERT_TRUE(store_->SaveJob(failed, RequestState::kFailed, "Failed", error, t0 + 3000).ok());

  // "t-old" last changed at t0: not in a window that starts later.
  Result<std::vector<RequestTimeline>> recent = store_->TimelinesSince(t0 + 500, 100);
  ASSERT_TRUE(recent.ok()) << recent.status().ToString();
  ASSERT_EQ(recent->size(), 2u);
  const RequestTimeline& done = (*recent)[0];
  EXPECT_EQ(done.id, "t-done");
  EXPECT_EQ(done.state, RequestState::kCompleted);
  EXPECT_FALSE(done.error.has_value());
  EXPECT_EQ(done.finished_at, t0 + 9000);
  ASSERT_EQ(done.steps.size(), 4u);
  EXPECT_EQ(done.steps[0].state, RequestState::kPendingApproval);
  EXPECT_EQ(done.steps[2].at, t0 + 2000);
  EXPECT_EQ(done.steps[3].state, RequestState::kCompleted);
  const RequestTimeline& bad = (*recent)[1];
  EXPECT_EQ(bad.id, "t-failed");
  ASSERT_TRUE(bad.error.has_value());
  EXPECT_EQ(bad.error->code, 806);
  EXPECT_EQ(bad.error->name, "ZtdDeviceAlreadyAssigned");
  EXPECT_EQ(bad.steps.size(), 3u);

  EXPECT_EQ(store_->TimelinesSince(0, 100)->size(), 3u);
  // The limit keeps the most recently changed.
  Result<std::vector<RequestTimeline>> newest = store_->TimelinesSince(0, 1);
  ASSERT_EQ(newest->size(), 1u);
  EXPECT_EQ((*newest)[0].id, "t-done");
}

}  // namespace
}  // namespace apm
