#include "server/notify/audit_export.h"

#include <zlib.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "server/clock.h"
#include "server/json_text.h"
#include "server/logging.h"

namespace apm {
namespace {

using json = nlohmann::ordered_json;

// Below the documented 1 MB per call, counted uncompressed so either reading of it holds.
constexpr size_t kTargetRowsBytes = 900'000;
constexpr int64_t kMaxBackoffMs = 5 * 60'000;
constexpr int kMaxBatchRows = 500;
constexpr int64_t kDefaultRetryAfterMs = 60'000;

}  // namespace

AuditExporter::AuditExporter(AuditExportSettings settings, EventOutbox& outbox,
                             RequestStore& requests, OutboundHttp& http, TokenSource& tokens,
                             const Clock& clock)
    : settings_(std::move(settings)),
      outbox_(outbox),
      requests_(requests),
      http_(http),
      tokens_(tokens),
      clock_(clock) {}

AuditExporter::~AuditExporter() {
  Stop();
}

void AuditExporter::Start(std::function<bool()> may_run) {
  rounds_.Start(std::chrono::seconds(2), std::move(may_run), [this] { RunOnce(); });
}

void AuditExporter::Stop() {
  rounds_.Stop();
}

Result<std::string> AuditExporter::Gzip(std::string_view data) {
  z_stream z{};
  // 15 + 16: a gzip wrapper, as Content-Encoding: gzip means.
  if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return Status::Internal("gzip: cannot start");
  }
  std::string out(deflateBound(&z, uLong(data.size())), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = uInt(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = uInt(out.size());
  int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) return Status::Internal("gzip: did not finish");
  return out;
}

std::string AuditExporter::Row(const AuditEvent& e) {
  json row = {{"TimeGenerated", FormatTimestamp(e.at)},
              {"Seq", e.seq},
              {"Action", e.action},
              {"Actor", e.actor_upn},
              {"ActorObjectId", e.actor_oid},
              {"Address", e.address},
              {"RequestId", e.request_id},
              {"Detail", e.detail}};
  // The original sent the hash with approvals when told to; never otherwise.
  if (settings_.report_hash && e.action == "approve" && !e.request_id.empty()) {
    if (Result<StoredRequest> r = requests_.GetWithHash(e.request_id); r.ok()) {
      row["HardwareHash"] = r->hardware_hash;
    }
  }
  return JsonText(row);
}

int AuditExporter::Send(const std::string& rows, OutboundResponse* answer) {
  Result<std::string> token = tokens_.AccessToken();
  if (!token.ok()) {
    LogWarn("audit export: no token for Azure Monitor", {{"error", token.status().ToString()}});
    return 0;
  }
  Result<std::string> body = Gzip(rows);
  if (!body.ok()) return 0;
  OutboundRequest request;
  request.method = "POST";
  std::string base = settings_.endpoint;
  while (base.ends_with('/')) base.pop_back();
  request.url = base + "/dataCollectionRules/" + settings_.rule_id + "/streams/" +
                settings_.stream + "?api-version=2023-01-01";
  request.headers = {{"Authorization", "Bearer " + *token},
                     {"Content-Type", "application/json"},
                     {"Content-Encoding", "gzip"}};
  request.body = std::move(*body);
  request.timeout = std::chrono::seconds(30);
  request.may_send = rounds_.send_gate();
  Result<OutboundResponse> r = http_.Send(request);
  if (!r.ok()) {
    if (!rounds_.Continuing()) return -1;  // not sent, or cut off: no failure
    LogWarn("audit export: no answer", {{"error", r.status().message()}});
    return 0;
  }
  if (r->status == 401) tokens_.Invalidate(*token);
  *answer = std::move(*r);
  return answer->status;
}

void AuditExporter::Backoff(const OutboundResponse* answer) {
  ++failed_calls_;
  int64_t delay = 0;
  if (answer && answer->status == 429) {
    delay = kDefaultRetryAfterMs;
    if (std::optional<int> seconds = ParseRetryAfterSeconds(answer->Header("retry-after"))) {
      delay = std::min<int64_t>(*seconds, 3600) * 1000;
    }
  } else {
    backoff_ms_ = std::clamp<int64_t>(backoff_ms_ * 2, 5'000, kMaxBackoffMs);
    delay = backoff_ms_;
  }
  next_try_at_ = clock_.NowMs() + delay;
}

int AuditExporter::RunOnce() {
  if (clock_.NowMs() < next_try_at_) return 0;
  int acknowledged = 0;
  for (;;) {
    if (!rounds_.Continuing()) return acknowledged;
    Result<std::vector<AuditEvent>> events = outbox_.UnexportedAudit(batch_rows_);
    if (!events.ok()) {
      LogWarn("audit export: reading the audit failed", {{"error", events.status().ToString()}});
      return acknowledged;
    }
    if (events->empty()) return acknowledged;
    // Rows in order, as many as fit the call.
    std::string rows = "[";
    std::vector<int64_t> seqs;
    for (const AuditEvent& e : *events) {
      std::string row = Row(e);
      if (!seqs.empty() && rows.size() + row.size() + 2 > kTargetRowsBytes) break;
      if (!seqs.empty()) rows += ",";
      rows += row;
      seqs.push_back(e.seq);
    }
    rows += "]";
    OutboundResponse answer;
    int status = Send(rows, &answer);
    if (status >= 200 && status <= 299) {
      if (Status s = outbox_.MarkAuditExported(seqs); !s.ok()) {
        LogWarn("audit export: not recorded; the batch will be sent again",
                {{"error", s.ToString()}});
        Backoff(nullptr);
        return acknowledged;
      }
      acknowledged += int(seqs.size());
      exported_ += seqs.size();
      backoff_ms_ = 0;
      // A 413 may have been a slow call (Azure answers TimeoutExpired so): grow back, slowly.
      batch_rows_ = std::min(kMaxBatchRows, batch_rows_ + batch_rows_ / 4 + 1);
      continue;
    }
    if (status == 413 && seqs.size() > 1) {
      ++failed_calls_;
      batch_rows_ = std::max(1, int(seqs.size() / 2));  // too large after all: smaller calls
      LogWarn("audit export: batch too large, halved", {{"rows", batch_rows_}});
      continue;
    }
    // One row (a few KB at most) refused as too large is not about its size: it is tried again
    // later, like any failure, never dropped.
    if (status == 413) {
      LogError("audit export: Azure Monitor refuses a single row as too large; retrying",
               {{"seq", seqs.front()}});
    }
    if (status < 0) return acknowledged;
    if (status != 0) {
      LogWarn("audit export: not accepted", {{"status", status}, {"rows", int64_t(seqs.size())}});
    }
    Backoff(status ? &answer : nullptr);
    return acknowledged;
  }
}

}  // namespace apm
