// ApprovalService on a real SQLite store: each outcome of a decision, and what it records.
#include "server/approval_service.h"

#include <gtest/gtest.h>

#include "core/testing/hash_builder.h"
#include "server/store/sqlite_request_store.h"
#include "server/testing/temp_dir.h"

namespace apm {
namespace {

class ApprovalServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::move(SqliteRequestStore::Open(dir_.File("apm.db"))).value();
  }

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
  std::unique_ptr<SqliteRequestStore> store_;
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
