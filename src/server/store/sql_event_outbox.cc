// SqlRequestStore's event outbox (event_outbox.h). Events are marked queued, not read by a
// cursor: on PostgreSQL a lower sequence number may commit after a higher one.
#include "server/store/sql_request_store.h"

namespace apm {

Result<int64_t> SqlRequestStore::QueueEventDeliveries(
    const std::map<std::string, std::vector<std::string>>& channels_by_state, int64_t now_ms,
    int64_t not_before_ms, int limit) {
  return InWriteTransaction([&](SqlConnection& c) -> Result<int64_t> {
    struct Event {
      int64_t seq;
      std::string state;
      int64_t at;
    };
    std::vector<Event> events;
    {
      Result<SqlStatement> s = c.Statement(
          "SELECT seq, state, at FROM request_events WHERE queued = 0 ORDER BY seq LIMIT ?1");
      if (!s.ok()) return s.status();
      s->Bind(1, int64_t(limit));
      SqlStep rc;
      while ((rc = s->Step()) == SqlStep::kRow)
        events.push_back({s->Int(0), s->Text(1), s->Int(2)});
      if (rc != SqlStep::kDone) return c.Error("unqueued events");
    }
    for (const auto& [seq, state, at] : events) {
      auto wanted = channels_by_state.find(state);
      if (wanted != channels_by_state.end() && at >= not_before_ms) {
        for (const std::string& channel : wanted->second) {
          Result<SqlStatement> s = c.Statement(
              "INSERT INTO event_deliveries (event_seq, channel, next_at) VALUES (?1, ?2, ?3) "
              "ON CONFLICT (event_seq, channel) DO NOTHING");
          if (!s.ok()) return s.status();
          s->Bind(1, seq).Bind(2, channel).Bind(3, now_ms);
          if (Status st = RunToCompletion(c, *s, "queue delivery"); !st.ok()) return st;
        }
      }
      Result<SqlStatement> s = c.Statement("UPDATE request_events SET queued = 1 WHERE seq = ?1");
      if (!s.ok()) return s.status();
      s->Bind(1, seq);
      if (Status st = RunToCompletion(c, *s, "mark event queued"); !st.ok()) return st;
    }
    return int64_t(events.size());
  });
}

Result<std::vector<EventDelivery>> SqlRequestStore::DueEventDeliveries(int64_t now_ms, int limit) {
  return OnReader([&](SqlConnection& c) -> Result<std::vector<EventDelivery>> {
    Result<SqlStatement> s = c.Statement(
        "SELECT d.event_seq, d.channel, d.attempts, e.request_id, e.state, e.at "
        "FROM event_deliveries d JOIN request_events e ON e.seq = d.event_seq "
        "WHERE d.gave_up_at = 0 AND d.next_at <= ?1 ORDER BY d.next_at, d.event_seq LIMIT ?2");
    if (!s.ok()) return s.status();
    s->Bind(1, now_ms).Bind(2, int64_t(limit));
    std::vector<EventDelivery> due;
    SqlStep rc;
    while ((rc = s->Step()) == SqlStep::kRow) {
      due.push_back({.event_seq = s->Int(0),
                     .channel = s->Text(1),
                     .attempts = s->Int(2),
                     .request_id = s->Text(3),
                     .state = s->Text(4),
                     .at = s->Int(5)});
    }
    if (rc != SqlStep::kDone) return c.Error("due deliveries");
    return due;
  });
}

Status SqlRequestStore::FinishEventDelivery(int64_t event_seq, const std::string& channel) {
  return OnWriter([&](SqlConnection& c) -> Status {
    Result<SqlStatement> s =
        c.Statement("DELETE FROM event_deliveries WHERE event_seq = ?1 AND channel = ?2");
    if (!s.ok()) return s.status();
    s->Bind(1, event_seq).Bind(2, channel);
    return RunToCompletion(c, *s, "finish delivery");
  });
}

Status SqlRequestStore::RetryEventDelivery(int64_t event_seq, const std::string& channel,
                                           int64_t next_at_ms, bool give_up,
                                           const std::string& error, int64_t now_ms) {
  return OnWriter([&](SqlConnection& c) -> Status {
    Result<SqlStatement> s = c.Statement(
        "UPDATE event_deliveries SET attempts = attempts + 1, next_at = ?3, gave_up_at = ?4, "
        "last_error = ?5 WHERE event_seq = ?1 AND channel = ?2");
    if (!s.ok()) return s.status();
    s->Bind(1, event_seq).Bind(2, channel).Bind(3, next_at_ms).Bind(4, give_up ? now_ms : 0);
    s->Bind(5, error);
    return RunToCompletion(c, *s, "retry delivery");
  });
}

Result<int64_t> SqlRequestStore::WaitingEventDeliveries() {
  return OnReader([&](SqlConnection& c) -> Result<int64_t> {
    Result<SqlStatement> s =
        c.Statement("SELECT COUNT(*) FROM event_deliveries WHERE gave_up_at = 0");
    if (!s.ok()) return s.status();
    if (s->Step() != SqlStep::kRow) return c.Error("waiting deliveries");
    return s->Int(0);
  });
}

Result<int64_t> SqlRequestStore::PurgeEventsBefore(int64_t before_ms) {
  return InWriteTransaction([&](SqlConnection& c) -> Result<int64_t> {
    int64_t purged = 0;
    for (const char* sql :
         {"DELETE FROM event_deliveries WHERE gave_up_at <> 0 AND gave_up_at < ?1",
          "DELETE FROM request_events WHERE at < ?1 AND NOT EXISTS "
          "(SELECT 1 FROM event_deliveries d WHERE d.event_seq = request_events.seq)"}) {
      Result<SqlStatement> s = c.Statement(sql);
      if (!s.ok()) return s.status();
      s->Bind(1, before_ms);
      if (Status st = RunToCompletion(c, *s, "purge events"); !st.ok()) return st;
      purged += c.Changes();
    }
    return purged;
  });
}

Result<std::vector<AuditEvent>> SqlRequestStore::UnexportedAudit(int limit) {
  return OnReader([&](SqlConnection& c) -> Result<std::vector<AuditEvent>> {
    Result<SqlStatement> s = c.Statement(
        "SELECT seq, at, actor_oid, actor_upn, address, action, request_id, detail "
        "FROM audit_events WHERE exported = 0 ORDER BY seq LIMIT ?1");
    if (!s.ok()) return s.status();
    s->Bind(1, int64_t(limit));
    std::vector<AuditEvent> events;
    SqlStep rc;
    while ((rc = s->Step()) == SqlStep::kRow) {
      events.push_back({s->Int(0), s->Int(1), s->Text(2), s->Text(3), s->Text(4), s->Text(5),
                        s->Text(6), s->Text(7)});
    }
    if (rc != SqlStep::kDone) return c.Error("unexported audit events");
    return events;
  });
}

Status SqlRequestStore::MarkAuditExported(const std::vector<int64_t>& seqs) {
  if (seqs.empty()) return Status::Ok();
  return InWriteTransaction([&](SqlConnection& c) -> Status {
    for (int64_t seq : seqs) {
      Result<SqlStatement> s = c.Statement("UPDATE audit_events SET exported = 1 WHERE seq = ?1");
      if (!s.ok()) return s.status();
      s->Bind(1, seq);
      if (Status st = RunToCompletion(c, *s, "mark audit exported"); !st.ok()) return st;
    }
    return Status::Ok();
  });
}

}  // namespace apm
