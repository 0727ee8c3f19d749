// The audit export on both store backends with a scripted Logs Ingestion endpoint: order,
// batching, gzip, 413 and 429, and the hash only when asked for.
#include "server/notify/audit_export.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <deque>
#include <nlohmann/json.hpp>

#include "server/store/testing/pending_request.h"
#include "server/store/testing/store_backend.h"
#include "server/testing/scripted_http.h"

namespace apm {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

std::string Gunzip(const std::string& in) {
  z_stream z{};
  EXPECT_EQ(inflateInit2(&z, 15 + 16), Z_OK);
  std::string out(16 * 1024 * 1024, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = uInt(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = uInt(out.size());
  EXPECT_EQ(inflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  inflateEnd(&z);
  return out;
}

class FixedToken : public TokenSource {
 public:
  Result<std::string> AccessToken() override { return token; }
  void Invalidate(const std::string& t) override { invalidated.push_back(t); }
  std::string token = "monitor-token";
  std::vector<std::string> invalidated;
};

class AuditExportTest : public ::testing::TestWithParam<testing::Backend> {
 protected:
  void SetUp() override {
    auto opened = db_.Open();
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(opened).value();
  }
  AuditExporter& exporter() {
    if (!exporter_) {
      exporter_ =
          std::make_unique<AuditExporter>(settings_, *store_, *store_, http_, tokens_, clock_);
    }
    return *exporter_;
  }
  void Audit(int n, const std::string& action = "sign_in", const std::string& request = "") {
    for (int i = 0; i < n; ++i) {
      AuditEvent e;
      e.at = clock_.NowMs();
      e.actor_upn = "user" + std::to_string(i) + "@contoso.com";
      e.action = action;
      e.request_id = request;
      e.detail = std::string(200, 'x');
      ASSERT_TRUE(store_->AppendAudit(e).ok());
    }
  }
  // The rows of the calls that were answered 204, in order.
  std::vector<json> Rows() const {
    std::vector<json> rows;
    for (size_t i = 0; i < http_.calls.size(); ++i) {
      if (i < answered_.size() && answered_[i] != 204) continue;
      for (json& row : json::parse(Gunzip(http_.calls[i].body))) rows.push_back(row);
    }
    return rows;
  }
  std::vector<int64_t> Seqs() const {
    std::vector<int64_t> out;
    for (const json& row : Rows()) out.push_back(row["Seq"]);
    return out;
  }
  // The statuses the script will give, kept to tell answered calls from refused ones.
  void Script(std::deque<int> statuses) {
    answered_.resize(http_.calls.size(), 204);
    for (int s : statuses) answered_.push_back(s);
    http_.statuses = std::move(statuses);
  }
  std::vector<int> answered_;

  testing::TestDatabase db_{GetParam()};
  ManualClock clock_;
  std::unique_ptr<SqlRequestStore> store_;
  testing::ScriptedHttp http_;
  FixedToken tokens_;
  AuditExportSettings settings_{"https://dce-1.westeurope-1.ingest.monitor.azure.com/",
                                "dcr-000a00a000a00000a000000aa000a0aa",
                                "Custom-AutopilotManagerAudit_CL", false};
  std::unique_ptr<AuditExporter> exporter_;
};

INSTANTIATE_TEST_SUITE_P(Backends, AuditExportTest,
                         ::testing::Values(testing::Backend::kSqlite, testing::Backend::kPostgres),
                         testing::BackendName);

TEST_P(AuditExportTest, EveryEventGoesOnceInOrderGzippedToTheRulesStream) {
  Audit(1200);
  EXPECT_EQ(exporter().RunOnce(), 1200);
  EXPECT_EQ(exporter().RunOnce(), 0);
  ASSERT_EQ(http_.calls.size(), 3u);  // 500 rows a call
  const OutboundRequest& call = http_.calls[0];
  EXPECT_EQ(call.url,
            "https://dce-1.westeurope-1.ingest.monitor.azure.com/dataCollectionRules/"
            "dcr-000a00a000a00000a000000aa000a0aa/streams/Custom-AutopilotManagerAudit_CL"
            "?api-version=2023-01-01");
  std::map<std::string, std::string> headers(call.headers.begin(), call.headers.end());
  EXPECT_EQ(headers["Authorization"], "Bearer monitor-token");
  EXPECT_EQ(headers["Content-Encoding"], "gzip");
  EXPECT_EQ(headers["Content-Type"], "application/json");
  std::vector<int64_t> seqs = Seqs();
  ASSERT_EQ(seqs.size(), 1200u);
  EXPECT_TRUE(std::is_sorted(seqs.begin(), seqs.end()));
  EXPECT_EQ(std::set<int64_t>(seqs.begin(), seqs.end()).size(), 1200u);
  EXPECT_EQ(Rows()[0]["Action"], "sign_in");
  EXPECT_EQ(Rows()[0]["TimeGenerated"], FormatTimestamp(clock_.NowMs()));
  EXPECT_EQ(exporter().exported(), 1200u);
}

TEST_P(AuditExportTest, A413HalvesTheBatchAndLosesNothing) {
  Audit(300);
  Script({413, 413});
  EXPECT_EQ(exporter().RunOnce(), 300);
  EXPECT_LT(exporter().batch_rows(), 300);  // 75 after the second 413, growing back since
  EXPECT_EQ(exporter().failed_calls(), 2u);
  std::vector<int64_t> seqs = Seqs();
  EXPECT_EQ(seqs.size(), 300u);
  EXPECT_TRUE(std::is_sorted(seqs.begin(), seqs.end()));
}

TEST_P(AuditExportTest, A429WaitsForItsRetryAfterAndAFailureBacksOff) {
  Audit(3);
  http_.retry_after = "30";
  Script({429});
  EXPECT_EQ(exporter().RunOnce(), 0);
  clock_.Advance(29s);
  EXPECT_EQ(exporter().RunOnce(), 0);
  EXPECT_EQ(http_.calls.size(), 1u);  // not asked again before Retry-After
  clock_.Advance(1s);
  http_.retry_after.clear();
  Script({503});
  EXPECT_EQ(exporter().RunOnce(), 0);
  clock_.Advance(4s);
  EXPECT_EQ(exporter().RunOnce(), 0);
  clock_.Advance(1s);
  Script({401});
  EXPECT_EQ(exporter().RunOnce(), 0);
  EXPECT_EQ(tokens_.invalidated, std::vector<std::string>{"monitor-token"});
  clock_.Advance(10s);
  EXPECT_EQ(exporter().RunOnce(), 3);
  EXPECT_EQ(exporter().failed_calls(), 3u);
}

// Anyone can put bytes into the audit (a sign-in callback's error parameter); they must not stop
// the export, let alone the process.
TEST_P(AuditExportTest, BytesThatAreNotUtf8AreSentReplaced) {
  AuditEvent e;
  e.at = clock_.NowMs();
  e.action = "sign_in_failed";
  e.detail = "error=\xFF\xFE";
  ASSERT_TRUE(store_->AppendAudit(e).ok());
  EXPECT_EQ(exporter().RunOnce(), 1);
  ASSERT_EQ(Rows().size(), 1u);
  EXPECT_EQ(Rows()[0]["Detail"], "error=\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST_P(AuditExportTest, TheHashGoesOnlyWithApprovalsAndOnlyWhenAskedFor) {
  StoredRequest r = testing::PendingRequest("id-PF5AU001", "PF5AU001", "192.0.2.7", clock_.NowMs());
  r.hardware_hash = "VGhpcyBpcyBhIGhhc2g=";
  ASSERT_TRUE(store_->Create(r, 100, "").ok());
  Audit(1, "approve", r.id);
  exporter().RunOnce();
  ASSERT_EQ(Rows().size(), 1u);
  EXPECT_FALSE(Rows()[0].contains("HardwareHash"));
  EXPECT_EQ(Rows()[0]["RequestId"], r.id);
  settings_.report_hash = true;
  exporter_.reset();
  Audit(1, "approve", r.id);
  Audit(1, "reject", r.id);
  exporter().RunOnce();
  ASSERT_EQ(Rows().size(), 3u);
  EXPECT_EQ(Rows()[1]["HardwareHash"], "VGhpcyBpcyBhIGhhc2g=");
  EXPECT_FALSE(Rows()[2].contains("HardwareHash"));
}

}  // namespace
}  // namespace apm
