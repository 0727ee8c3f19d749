// SqlRequestStore's SessionStore half: sign-ins in progress, sessions and the audit trail,
// in the same database as the requests (migration 3).
#include "core/base64.h"
#include "core/sha256.h"

#include <nlohmann/json.hpp>
#include "server/store/sql_connection.h"
#include "server/store/sql_request_store.h"

#include "core/text.h"

namespace apm {

namespace {

// Sessions are looked up by the SHA-256 of their id: a copy of the database opens no session.
std::string SessionKey(const std::string& id) {
  Sha256Digest digest = Sha256(id);
  return Base64UrlEncodeNoPad(
      std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
}

}  // namespace

Status SqlRequestStore::SavePendingLogin(const PendingLogin& login) {
  return OnWriter([&](SqlConnection& c) -> Status {
    Result<SqlStatement> s = c.Statement(
        "INSERT INTO pending_logins (state, nonce, code_verifier, return_to, created_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5)");
    if (!s.ok()) return s.status();
    s->Bind(1, login.state).Bind(2, login.nonce).Bind(3, login.code_verifier);
    s->Bind(4, login.return_to).Bind(5, login.created_at);
    if (s->Step() != SqlStep::kDone) return c.Error("save pending login");
    return Status::Ok();
  });
}

Result<PendingLogin> SqlRequestStore::TakePendingLogin(const std::string& state) {
  return OnWriter([&](SqlConnection& c) -> Result<PendingLogin> {
    Result<SqlStatement> s = c.Statement(
        "DELETE FROM pending_logins WHERE state = ?1 "
        "RETURNING state, nonce, code_verifier, return_to, created_at");
    if (!s.ok()) return s.status();
    s->Bind(1, state);
    SqlStep rc = s->Step();
    if (rc == SqlStep::kDone) return Status::NotFound("no sign-in is waiting for this state");
    if (rc != SqlStep::kRow) return c.Error("take pending login");
    PendingLogin login{s->Text(0), s->Text(1), s->Text(2), s->Text(3), s->Int(4)};
    // The delete commits at the last step: a state is taken only once that succeeded.
    while ((rc = s->Step()) == SqlStep::kRow) {
    }
    if (rc != SqlStep::kDone) return c.Error("take pending login");
    return login;
  });
}

Status SqlRequestStore::CreateSession(const Session& session) {
  return OnWriter([&](SqlConnection& c) -> Status {
    Result<SqlStatement> s = c.Statement(
        "INSERT INTO sessions (id_hash, oid, tid, upn, name, groups_json, csrf_token, "
        "created_at, last_seen_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
    if (!s.ok()) return s.status();
    nlohmann::json groups = session.groups;
    s->Bind(1, SessionKey(session.id)).Bind(2, session.oid).Bind(3, session.tid);
    s->Bind(4, session.upn).Bind(5, session.name).Bind(6, groups.dump());
    s->Bind(7, session.csrf_token).Bind(8, session.created_at).Bind(9, session.last_seen_at);
    if (s->Step() != SqlStep::kDone) return c.Error("create session");
    return Status::Ok();
  });
}

Result<Session> SqlRequestStore::GetSession(const std::string& id) {
  return OnReader([&](SqlConnection& c) -> Result<Session> {
    Result<SqlStatement> s = c.Statement(
        "SELECT oid, tid, upn, name, groups_json, csrf_token, created_at, last_seen_at "
        "FROM sessions WHERE id_hash = ?1");
    if (!s.ok()) return s.status();
    s->Bind(1, SessionKey(id));
    SqlStep rc = s->Step();
    if (rc == SqlStep::kDone) return Status::NotFound("no such session");
    if (rc != SqlStep::kRow) return c.Error("get session");
    Session session{id, s->Text(0), s->Text(1), s->Text(2), s->Text(3),
                    {}, s->Text(5), s->Int(6),  s->Int(7)};
    nlohmann::json groups = nlohmann::json::parse(s->Text(4), nullptr, false);
    if (groups.is_array()) {
      for (const auto& g : groups) {
        if (g.is_string()) session.groups.push_back(g.get<std::string>());
      }
    }
    return session;
  });
}

Status SqlRequestStore::TouchSession(const std::string& id, int64_t now_ms) {
  return OnWriter([&](SqlConnection& c) -> Status {
    Result<SqlStatement> s =
        c.Statement("UPDATE sessions SET last_seen_at = ?2 WHERE id_hash = ?1");
    if (!s.ok()) return s.status();
    s->Bind(1, SessionKey(id)).Bind(2, now_ms);
    if (s->Step() != SqlStep::kDone) return c.Error("touch session");
    return Status::Ok();
  });
}

Status SqlRequestStore::DeleteSession(const std::string& id) {
  return OnWriter([&](SqlConnection& c) -> Status {
    Result<SqlStatement> s = c.Statement("DELETE FROM sessions WHERE id_hash = ?1");
    if (!s.ok()) return s.status();
    s->Bind(1, SessionKey(id));
    if (s->Step() != SqlStep::kDone) return c.Error("delete session");
    return Status::Ok();
  });
}

Result<int64_t> SqlRequestStore::PurgeSessions(int64_t idle_cutoff_ms, int64_t absolute_cutoff_ms,
                                               int64_t login_cutoff_ms) {
  return InWriteTransaction([&](SqlConnection& c) -> Result<int64_t> {
    int64_t purged = 0;
    {
      Result<SqlStatement> s =
          c.Statement("DELETE FROM sessions WHERE last_seen_at < ?1 OR created_at < ?2");
      if (!s.ok()) return s.status();
      s->Bind(1, idle_cutoff_ms).Bind(2, absolute_cutoff_ms);
      if (s->Step() != SqlStep::kDone) return c.Error("purge sessions");
      purged = c.Changes();
    }
    {
      Result<SqlStatement> s = c.Statement("DELETE FROM pending_logins WHERE created_at < ?1");
      if (!s.ok()) return s.status();
      s->Bind(1, login_cutoff_ms);
      if (s->Step() != SqlStep::kDone) return c.Error("purge pending logins");
    }
    return purged;
  });
}

Status SqlRequestStore::AppendAudit(const AuditEvent& e) {
  return OnWriter([&](SqlConnection& c) -> Status {
    Result<SqlStatement> s = c.Statement(
        "INSERT INTO audit_events (at, actor_oid, actor_upn, address, action, request_id, "
        "detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    if (!s.ok()) return s.status();
    // Text from outside (a sign-in callback's parameters) need not be UTF-8; PostgreSQL refuses
    // what is not, and the event would be lost.
    s->Bind(1, e.at).Bind(2, ValidUtf8Text(e.actor_oid)).Bind(3, ValidUtf8Text(e.actor_upn));
    s->Bind(4, ValidUtf8Text(e.address)).Bind(5, ValidUtf8Text(e.action));
    s->Bind(6, ValidUtf8Text(e.request_id)).Bind(7, ValidUtf8Text(e.detail));
    if (s->Step() != SqlStep::kDone) return c.Error("append audit event");
    return Status::Ok();
  });
}

Result<int64_t> SqlRequestStore::PurgeAuditBefore(int64_t cutoff_ms, bool keep_unexported) {
  return OnWriter([&](SqlConnection& c) -> Result<int64_t> {
    Result<SqlStatement> s =
        c.Statement("DELETE FROM audit_events WHERE at < ?1 AND (?2 = 0 OR exported = 1)");
    if (!s.ok()) return s.status();
    s->Bind(1, cutoff_ms).Bind(2, int64_t(keep_unexported ? 1 : 0));
    if (s->Step() != SqlStep::kDone) return c.Error("purge audit events");
    return int64_t(c.Changes());
  });
}

Result<std::vector<AuditEvent>> SqlRequestStore::ListAudit(const AuditFilter& f) {
  return OnReader([&](SqlConnection& c) -> Result<std::vector<AuditEvent>> {
    Result<SqlStatement> s = c.Statement(
        "SELECT seq, at, actor_oid, actor_upn, address, action, request_id, detail "
        "FROM audit_events WHERE at >= ?1 AND (?2 = 0 OR at < ?2) "
        "AND (?3 = '' OR action = ?3) AND (?4 = '' OR request_id = ?4) "
        "ORDER BY seq DESC LIMIT ?5");
    if (!s.ok()) return s.status();
    s->Bind(1, f.since).Bind(2, f.until).Bind(3, f.action).Bind(4, f.request_id);
    s->Bind(5, int64_t(f.limit));
    std::vector<AuditEvent> events;
    SqlStep rc;
    while ((rc = s->Step()) == SqlStep::kRow) {
      events.push_back({s->Int(0), s->Int(1), s->Text(2), s->Text(3), s->Text(4), s->Text(5),
                        s->Text(6), s->Text(7)});
    }
    if (rc != SqlStep::kDone) return c.Error("list audit events");
    return events;
  });
}

}  // namespace apm
