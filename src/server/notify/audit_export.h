// Sends the audit trail to Azure Monitor through the Logs Ingestion API (the Data Collector API
// the original used was retired on 2026-09-14): batches of rows in the audit's order, gzip, under
// the 1 MB per call limit (a 413 halves the batch), 429's Retry-After honoured. An event is
// marked exported only after a 2xx, so a crash sends a batch again rather than losing it.
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "core/status.h"
#include "server/background_rounds.h"
#include "server/clock.h"
#include "server/graph/token_source.h"
#include "server/http/outbound_http.h"
#include "server/store/event_outbox.h"
#include "server/store/request_store.h"

namespace apm {

struct AuditExportSettings {
  std::string endpoint;      // the DCR's or DCE's logs ingestion endpoint
  std::string rule_id;       // the DCR's immutable id, dcr-…
  std::string stream;        // e.g. Custom-AutopilotManagerAudit_CL
  bool report_hash = false;  // LogAnalyticsReportHardwareHash: approvals carry the hash
};

// Azure Monitor's token audience; the scope as Microsoft's samples write it.
inline constexpr char kMonitorScope[] = "https://monitor.azure.com//.default";

class AuditExporter {
 public:
  AuditExporter(AuditExportSettings settings, EventOutbox& outbox, RequestStore& requests,
                OutboundHttp& http, TokenSource& tokens, const Clock& clock);
  ~AuditExporter();

  // As the notifier: rounds every 2 s while `may_run()`, which is asked again before each call.
  void Start(std::function<bool()> may_run);
  void RequestStop() { rounds_.RequestStop(); }
  void Stop();

  // Sends what waits, batch after batch, until nothing does or a call fails. Returns the rows
  // acknowledged.
  int RunOnce();

  // Rows per call at most; a 413 halves it, each acknowledged call grows it back by a quarter.
  int batch_rows() const { return batch_rows_; }
  uint64_t exported() const { return exported_; }
  uint64_t failed_calls() const { return failed_calls_; }

  static Result<std::string> Gzip(std::string_view data);

 private:
  std::string Row(const AuditEvent& e);
  // One call with `rows` (a JSON array); the HTTP status, 0 without an answer, -1 when it was
  // not sent (no lease) or cut off by shutdown.
  int Send(const std::string& rows, OutboundResponse* answer);
  void Backoff(const OutboundResponse* answer);

  AuditExportSettings settings_;
  EventOutbox& outbox_;
  RequestStore& requests_;
  OutboundHttp& http_;
  TokenSource& tokens_;
  const Clock& clock_;
  int batch_rows_ = 500;  // kMaxBatchRows
  int64_t next_try_at_ = 0;
  int64_t backoff_ms_ = 0;
  std::atomic<uint64_t> exported_{0}, failed_calls_{0};
  BackgroundRounds rounds_;
};

}  // namespace apm
