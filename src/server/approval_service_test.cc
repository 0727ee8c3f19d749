// ApprovalService on a real SQLite store: each outcome of a decision, and what it records.
#include "server/approval_service.h"

#include <gtest/gtest.h>

#include "core/testing/hash_builder.h"
#include "server/importer/registration_check.h"
#include "server/store/sql_request_store.h"
#include "server/testing/temp_dir.h"

namespace apm {
namespace {

class ApprovalServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { store_ = std::move(SqlRequestStore::Open(dir_.File("apm.db"))).value(); }

  // A pending request for a LENOVO laptop; `hash` empty: a real synthetic hash.
  std::string Pending(const std::string& serial, const std::string& verification = "verified",
                      std::string hash = "") {
    StoredRequest r;
    r.id = "id-" + serial;
    r.serial_number = serial;
    r.manufacturer = "LENOVO";
    r.model = "21R3001BUK";
    r.hardware_hash =
        hash.empty() ? testing::HashText(testing::HashBuilder::Laptop(serial).Build()) : hash;
    r.hash_fingerprint = "fp-" + serial;
    r.client_address = "192.0.2.1";
    r.api = "v1";
    r.verification = verification;
    r.state = RequestState::kPendingApproval;
    r.step = "Waiting for approval";
    r.created_at = r.updated_at = clock_.NowMs();
    r.expires_at = clock_.NowMs() + 60 * 60'000;
    EXPECT_EQ(store_->Create(r, 100, "")->kind, CreateOutcome::Kind::kCreated);
    return r.id;
  }

  static Approval By(const std::string& who) {
    Approval a;
    a.approver = who;
    a.group_tag = "Kiosk";
    return a;
  }

  std::vector<std::string> AuditActions(const std::string& id) {
    AuditFilter f;
    f.request_id = id;
    std::vector<std::string> out;
    Result<std::vector<AuditEvent>> events = store_->ListAudit(f);
    EXPECT_TRUE(events.ok());
    if (events.ok()) {
      for (const AuditEvent& e : *events) out.push_back(e.action);
    }
    return out;
  }

  testing::ScopedTempDir dir_{"apm-approval-test"};
  ManualClock clock_;
  Config config_;
  std::unique_ptr<SqlRequestStore> store_;
};

TEST_F(ApprovalServiceTest, ApprovesAPendingRequestOnceAndRecordsIt) {
  ApprovalService approvals(config_, *store_, clock_, store_.get());
  std::string id = Pending("OK-1");
  Result<StoredRequest> r = approvals.Approve(id, By("helpdesk@contoso.com"), {"oid-1", "1.2.3.4"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->state, RequestState::kApproved);
  Result<StoredRequest> again = approvals.Approve(id, By("other@contoso.com"));
  EXPECT_EQ(again.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(AuditActions(id), std::vector<std::string>{"approve"});
}

TEST_F(ApprovalServiceTest, TodaysAllowListDecides) {
  config_.UseManufacturersFilter = true;
  config_.Manufacturers = {"Microsoft Corporation"};
  ApprovalService approvals(config_, *store_, clock_, store_.get());
  std::string id = Pending("LEN-1");
  Result<StoredRequest> r = approvals.Approve(id, By("helpdesk@contoso.com"));
  EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(store_->Get(id)->state, RequestState::kNotAllowed);
  EXPECT_EQ(AuditActions(id), std::vector<std::string>{"approve_refused"});
}

TEST_F(ApprovalServiceTest, AnExpiredRequestIsNotDecided) {
  ApprovalService approvals(config_, *store_, clock_);
  std::string id = Pending("OLD-1");
  clock_.Advance(std::chrono::hours(2));
  EXPECT_EQ(approvals.Approve(id, By("a@b.c")).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(approvals.Reject(id, "no", "a@b.c").status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_->Get(id)->state, RequestState::kPendingApproval);
}

TEST_F(ApprovalServiceTest, CommentsAndReasonsArePlainText) {
  ApprovalService approvals(config_, *store_, clock_);
  std::string id = Pending("TXT-1");
  Approval a = By("a@b.c");
  a.comment = "fine\x1b[2J";
  Result<StoredRequest> r = approvals.Approve(id, a);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "the comment must not contain control characters");
  a.comment = std::string(501, 'c');
  EXPECT_EQ(approvals.Approve(id, a).status().code(), StatusCode::kInvalidArgument);
  Result<StoredRequest> reject = approvals.Reject(id, "wrong \u202etxet", "a@b.c");
  EXPECT_EQ(reject.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(reject.status().message().find("U+202E"), std::string::npos);
  EXPECT_EQ(store_->Get(id)->state, RequestState::kPendingApproval);
  // Surrounding space is trimmed, other text kept.
  Result<StoredRequest> ok = approvals.Reject(id, "  Not ours — sorry ", "a@b.c");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->error->message, "Not ours — sorry");
}

TEST_F(ApprovalServiceTest, UnderEnforceAnUnverifiableHashNeedsAnApprover) {
  ApprovalService approvals(config_, *store_, clock_, store_.get());
  std::string id = Pending("ODD-1", "unverifiable", "T0EAAAAA");
  DecisionContext self_service{"oid-user", "1.2.3.4", /*approver=*/false};
  Result<StoredRequest> r = approvals.Approve(id, By("user@contoso.com"), self_service);
  EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(store_->Get(id)->state, RequestState::kPendingApproval);
  EXPECT_EQ(AuditActions(id), std::vector<std::string>{"approve_denied"});
  EXPECT_TRUE(approvals.Approve(id, By("helpdesk@contoso.com")).ok());

  // With HashVerification = "warn" it is the self-service user's decision.
  config_.HashVerification = "warn";
  std::string warned = Pending("ODD-2", "unverifiable", "T0EAAAAA");
  EXPECT_TRUE(approvals.Approve(warned, By("user@contoso.com"), self_service).ok());
}

}  // namespace
}  // namespace apm

namespace apm {
namespace {

// A request whose serial the tenant already holds `count` times, as the checker saved it.
class RepairApprovalTest : public ApprovalServiceTest {
 protected:
  std::string Registered(const std::string& serial, int count) {
    std::string id = Pending(serial);
    RegistrationCheck check;
    check.checked_at = clock_.NowMs();
    for (int i = 0; i < count; ++i) {
      FoundRegistration f;
      f.device.id = "old-" + std::to_string(i);
      f.device.serial_number = serial;
      f.device.group_tag = "Kiosk";
      f.device.purchase_order_id = "PO-77";
      check.found.push_back(f);
    }
    EXPECT_TRUE(store_->SaveRegistration(id, RegistrationCheckJson(check), clock_.NowMs()).ok());
    return id;
  }
  static Approval Choosing(ApprovalAction action, const std::string& registration_id = "") {
    Approval a = By("helpdesk@contoso.com");
    a.action = action;
    a.registration_id = registration_id;
    return a;
  }
  const DecisionContext kSelfService{"oid-user", "1.2.3.4", /*approver=*/false};
};

TEST_F(RepairApprovalTest, APlainImportOfARegisteredSerialIsRefusedWithTheChoices) {
  ApprovalService approvals(config_, *store_, clock_, store_.get());
  std::string id = Registered("REP-1", 1);
  Result<StoredRequest> r = approvals.Approve(id, By("helpdesk@contoso.com"));
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("Re-register or Update only"), std::string::npos);
  EXPECT_EQ(store_->Get(id)->state, RequestState::kPendingApproval);
  EXPECT_EQ(AuditActions(id), std::vector<std::string>{"approve_denied"});
}

TEST_F(RepairApprovalTest, AnApproverReRegistersTheOneRegistrationFound) {
  ApprovalService approvals(config_, *store_, clock_, store_.get());
  std::string id = Registered("REP-2", 1);
  Result<StoredRequest> r = approvals.Approve(id, Choosing(ApprovalAction::kReRegister));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  Result<ImportJob> job = store_->GetJob(id);
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->approval.action, ApprovalAction::kReRegister);
  EXPECT_EQ(job->approval.registration_id, "old-0") << "filled in from the lookup";
  AuditFilter f;
  f.request_id = id;
  std::string detail = store_->ListAudit(f)->front().detail;
  EXPECT_NE(detail.find("re_register of registration old-0"), std::string::npos) << detail;
  EXPECT_NE(detail.find("purchase order id PO-77 not carried over"), std::string::npos) << detail;
}

TEST_F(RepairApprovalTest, TwoRegistrationsOrAStaleChoiceAreRefused) {
  ApprovalService approvals(config_, *store_, clock_, store_.get());
  std::string two = Registered("REP-3", 2);
  Result<StoredRequest> r = approvals.Approve(two, Choosing(ApprovalAction::kReRegister));
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("2 registrations"), std::string::npos);
  std::string one = Registered("REP-4", 1);
  r = approvals.Approve(one, Choosing(ApprovalAction::kReRegister, "old-9"));
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  std::string unchecked = Pending("REP-5");
  r = approvals.Approve(unchecked, Choosing(ApprovalAction::kUpdateOnly));
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("not been looked up yet"), std::string::npos);
}

TEST_F(RepairApprovalTest, SelfServiceNeverDeletesUnlessAllowed) {
  ApprovalService approvals(config_, *store_, clock_, store_.get());
  std::string id = Registered("REP-6", 1);
  for (ApprovalAction action :
       {ApprovalAction::kImport, ApprovalAction::kReRegister, ApprovalAction::kUpdateOnly}) {
    Result<StoredRequest> r = approvals.Approve(id, Choosing(action), kSelfService);
    EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied) << ApprovalActionName(action);
  }
  config_.AllowSelfServiceReRegister = true;
  Result<StoredRequest> r =
      approvals.Approve(id, Choosing(ApprovalAction::kReRegister), kSelfService);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
}

TEST_F(RepairApprovalTest, RemovingTheIntuneRecordNeedsItsSetting) {
  ApprovalService approvals(config_, *store_, clock_, store_.get());
  std::string id = Registered("REP-7", 1);
  EXPECT_EQ(approvals.Approve(id, Choosing(ApprovalAction::kRemoveManagedDevice)).status().code(),
            StatusCode::kPermissionDenied);
  config_.AllowDeletionInApprovalMode = true;
  EXPECT_TRUE(approvals.Approve(id, Choosing(ApprovalAction::kRemoveManagedDevice)).ok());
}

}  // namespace
}  // namespace apm
