// The durable outbox of request events. The database itself records every change of a request's
// state (a trigger, in the transaction that made it), so no code path can skip an event; the
// notifier copies events into deliveries, one per channel that wants them, and a delivery stays
// until its channel has acknowledged it. A crash between sending and acknowledging sends it
// again, with the same id.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "server/store/session_store.h"

namespace apm {

// One delivery of one event to one channel ("webhook", "teams").
struct EventDelivery {
  int64_t event_seq = 0;
  std::string channel;
  int64_t attempts = 0;  // failed attempts so far
  std::string request_id;
  std::string state;  // the state the request entered (RequestStateName)
  int64_t at = 0;     // when, ms since epoch
};

class EventOutbox {
 public:
  virtual ~EventOutbox() = default;
  // Turns up to `limit` events not yet queued into deliveries, one for each channel
  // `channels_by_state` lists for the event's state (none, or an event older than
  // `not_before_ms`: the event is just marked queued). Returns how many events it took.
  virtual Result<int64_t> QueueEventDeliveries(
      const std::map<std::string, std::vector<std::string>>& channels_by_state, int64_t now_ms,
      int64_t not_before_ms, int limit) = 0;
  // Deliveries due at `now_ms`, oldest first.
  virtual Result<std::vector<EventDelivery>> DueEventDeliveries(int64_t now_ms, int limit) = 0;
  // Acknowledged (or about a request that is gone): the delivery is removed.
  virtual Status FinishEventDelivery(int64_t event_seq, const std::string& channel) = 0;
  // Failed: tried again at `next_at_ms`, or, with `give_up`, kept for the record and not again.
  virtual Status RetryEventDelivery(int64_t event_seq, const std::string& channel,
                                    int64_t next_at_ms, bool give_up, const std::string& error,
                                    int64_t now_ms) = 0;
  // Deliveries waiting (not given up), for /metrics.
  virtual Result<int64_t> WaitingEventDeliveries() = 0;
  // Forgets events (queued or not) without a delivery, and given-up deliveries, older than
  // `before_ms`.
  virtual Result<int64_t> PurgeEventsBefore(int64_t before_ms) = 0;

  // The audit trail's export: up to `limit` audit events not yet acknowledged, oldest first,
  // and marking some acknowledged.
  virtual Result<std::vector<AuditEvent>> UnexportedAudit(int limit) = 0;
  virtual Status MarkAuditExported(const std::vector<int64_t>& seqs) = 0;
};

}  // namespace apm
