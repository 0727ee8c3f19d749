// Bulk uploads through IntakeService on a real SQLite store: what each row becomes.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "core/testing/hash_builder.h"
#include "server/intake_service.h"
#include "server/store/sql_request_store.h"
#include "server/testing/temp_dir.h"

namespace apm {
namespace {

class UploadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::move(SqlRequestStore::Open(dir_.File("apm.db"))).value();
    config_.MaxOpenRequestsPerAddress = 2;  // an upload is not held to it
    intake_ = std::make_unique<IntakeService>(config_, *store_, clock_, limiter_);
    intake_->AuditTo(store_.get());
  }
  static std::string Hash(const std::string& serial) {
    return testing::HashText(testing::HashBuilder::Laptop(serial).Build());
  }

  testing::ScopedTempDir dir_{"apm-upload-test"};
  Config config_;
  ManualClock clock_;
  std::unique_ptr<SqlRequestStore> store_;
  RateLimiter limiter_{clock_, 1, 1};  // one submission a minute: uploads do not count
  std::unique_ptr<IntakeService> intake_;
};

TEST_F(UploadTest, EachGoodRowBecomesARequestAndEachBadOneSaysWhy) {
  std::string csv =
      "Device Serial Number,Windows Product ID,Hardware Hash,Group Tag,Assigned User\n"
      "PF5UP001,," +
      Hash("PF5UP001") + ",Kiosk,anna@contoso.com\n" + "PF5UP002,," + Hash("PF5UP002") + ",,\n" +
      "PF5UP003,," + Hash("PF5UP003") + ",,\n" + "PF5UP004,,bm90IGEgaGFzaA==,,\n" + "PF5UP999,," +
      Hash("PF5UP005") + ",,\n" + "PF5UP006,," + Hash("PF5UP006") + ",,not-a-upn\n" + "PF5UP001,," +
      Hash("PF5UP001") + ",Kiosk,anna@contoso.com\n";
  Result<std::vector<IntakeService::UploadOutcome>> out =
      intake_->SubmitUpload(csv, {"helpdesk@contoso.com", "oid-1", "192.0.2.7"});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ(out->size(), 7u);
  for (int i : {0, 1, 2}) EXPECT_EQ((*out)[i].refusal, "") << i;
  EXPECT_NE((*out)[3].refusal.find("the Hardware Hash cannot be read"), std::string::npos);
  EXPECT_NE((*out)[4].refusal.find("PF5UP005"), std::string::npos) << (*out)[4].refusal;
  EXPECT_EQ((*out)[5].refusal, "Assigned User must be a user principal name like user@contoso.com");
  EXPECT_TRUE((*out)[6].existing);
  EXPECT_EQ((*out)[6].request_id, (*out)[0].request_id);
  EXPECT_EQ((*out)[4].line, 6);

  Result<StoredRequest> first = store_->Get((*out)[0].request_id);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->state, RequestState::kPendingApproval);
  EXPECT_EQ(first->manufacturer, "LENOVO");  // from the hash
  EXPECT_EQ(first->model, "21R3001BUK");
  EXPECT_EQ(first->proposed_group_tag, "Kiosk");
  EXPECT_EQ(first->proposed_user, "anna@contoso.com");
  EXPECT_EQ(first->client_address, "helpdesk@contoso.com");
  EXPECT_EQ(first->api, "upload");
  EXPECT_EQ(first->verification, "verified");
  Result<std::vector<AuditEvent>> audit = store_->ListAudit({});
  ASSERT_TRUE(audit.ok());
  ASSERT_EQ(audit->size(), 2u);  // newest first
  EXPECT_EQ(audit->at(1).action, "upload");
  EXPECT_EQ(audit->at(1).detail, "7 rows");
  EXPECT_EQ(audit->at(1).actor_upn, "helpdesk@contoso.com");
  EXPECT_EQ(audit->at(1).actor_oid, "oid-1");  // who uploaded on the web, and from where
  EXPECT_EQ(audit->at(1).address, "192.0.2.7");
  EXPECT_EQ(audit->at(0).action, "upload_done");
  EXPECT_EQ(audit->at(0).detail, "3 new requests");
}

// The example the docs and the demo offer for the upload page: four devices, two bad rows.
TEST_F(UploadTest, TheShippedExampleFileHasFourGoodRowsAndTwoBadOnes) {
  std::ifstream file(APM_EXAMPLES_DIR "/reseller-devices.csv", std::ios::binary);
  std::stringstream csv;
  csv << file.rdbuf();
  Result<std::vector<IntakeService::UploadOutcome>> out =
      intake_->SubmitUpload(csv.str(), {"helpdesk@contoso.com", "", ""});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ(out->size(), 6u);
  for (int i : {0, 1, 2, 3}) EXPECT_EQ((*out)[i].refusal, "") << (*out)[i].serial_number;
  EXPECT_EQ((*out)[0].group_tag, "Kiosk");
  EXPECT_EQ(store_->Get((*out)[1].request_id).value().proposed_user, "user@contoso.example");
  EXPECT_EQ(store_->Get((*out)[2].request_id).value().manufacturer, "Microsoft Corporation");
  EXPECT_EQ((*out)[4].line, 6);
  EXPECT_NE((*out)[4].refusal.find("DEMO-0199"), std::string::npos) << (*out)[4].refusal;
  EXPECT_NE((*out)[5].refusal.find("the Hardware Hash cannot be read"), std::string::npos);
}

TEST_F(UploadTest, AFileThatIsNoCsvStoresNothing) {
  Result<std::vector<IntakeService::UploadOutcome>> out =
      intake_->SubmitUpload("Serial,Hash\nA,B\n", {"cli:root", "", ""});
  EXPECT_FALSE(out.ok());
  EXPECT_TRUE(store_->List({}).value().empty());
}

}  // namespace
}  // namespace apm
