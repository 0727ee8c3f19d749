#include "server/store/sql_schema.h"

namespace apm {
namespace {

// Each version once, in both dialects side by side: the same tables, columns and indexes
// (sql_schema_test.cc compares them), written as each database spells them.
const SchemaMigration kMigrations[] = {
    // 1. The requests and the change feed.
    {R"sql(
CREATE TABLE requests (
  id TEXT NOT NULL UNIQUE,
  serial_number TEXT NOT NULL,
  manufacturer TEXT NOT NULL,
  model TEXT NOT NULL,
  hardware_hash TEXT NOT NULL,
  hash_fingerprint TEXT NOT NULL,
  product_key TEXT NOT NULL DEFAULT '',
  client_version TEXT NOT NULL DEFAULT '',
  client_address TEXT NOT NULL,
  api TEXT NOT NULL,
  verification TEXT NOT NULL,
  hash_facts TEXT NOT NULL DEFAULT '{}',
  state TEXT NOT NULL,
  step TEXT NOT NULL,
  error_code INTEGER,
  error_name TEXT,
  error_message TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  finished_at INTEGER NOT NULL DEFAULT 0,
  version INTEGER NOT NULL,
  change_seq INTEGER NOT NULL
);
CREATE INDEX requests_open_by_serial ON requests(serial_number) WHERE finished_at = 0;
CREATE INDEX requests_open_by_address ON requests(client_address) WHERE finished_at = 0;
CREATE INDEX requests_pending_by_expiry ON requests(expires_at) WHERE state = 'pending_approval';
CREATE INDEX requests_finished ON requests(finished_at) WHERE finished_at <> 0;
CREATE INDEX requests_by_change ON requests(change_seq);
CREATE INDEX requests_by_state ON requests(state, created_at);
CREATE TABLE request_aliases (
  alias TEXT PRIMARY KEY,
  request_id TEXT NOT NULL REFERENCES requests(id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX request_aliases_by_request ON request_aliases(request_id);
CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO counters VALUES ('change_seq', 0);
)sql",
     R"sql(
CREATE TABLE requests (
  id TEXT NOT NULL UNIQUE,
  serial_number TEXT NOT NULL,
  manufacturer TEXT NOT NULL,
  model TEXT NOT NULL,
  hardware_hash TEXT NOT NULL,
  hash_fingerprint TEXT NOT NULL,
  product_key TEXT NOT NULL DEFAULT '',
  client_version TEXT NOT NULL DEFAULT '',
  client_address TEXT NOT NULL,
  api TEXT NOT NULL,
  verification TEXT NOT NULL,
  hash_facts TEXT NOT NULL DEFAULT '{}',
  state TEXT NOT NULL,
  step TEXT NOT NULL,
  error_code BIGINT,
  error_name TEXT,
  error_message TEXT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  finished_at BIGINT NOT NULL DEFAULT 0,
  version BIGINT NOT NULL,
  change_seq BIGINT NOT NULL
);
CREATE INDEX requests_open_by_serial ON requests(serial_number) WHERE finished_at = 0;
CREATE INDEX requests_open_by_address ON requests(client_address) WHERE finished_at = 0;
CREATE INDEX requests_pending_by_expiry ON requests(expires_at) WHERE state = 'pending_approval';
CREATE INDEX requests_finished ON requests(finished_at) WHERE finished_at <> 0;
CREATE INDEX requests_by_change ON requests(change_seq);
CREATE INDEX requests_by_state ON requests(state, created_at);
CREATE TABLE request_aliases (
  alias TEXT PRIMARY KEY,
  request_id TEXT NOT NULL REFERENCES requests(id) ON DELETE CASCADE
);
CREATE INDEX request_aliases_by_request ON request_aliases(request_id);
CREATE TABLE counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL);
INSERT INTO counters VALUES ('change_seq', 0);
-- Every change of the feed wakes the long-polls of every instance (LISTEN apm_changes).
CREATE FUNCTION apm_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('apm_changes', '');
  RETURN NULL;
END $$;
CREATE TRIGGER counters_notify AFTER UPDATE ON counters
  FOR EACH STATEMENT EXECUTE FUNCTION apm_notify_change();
)sql"},
    // 2. Import jobs.
    {R"sql(
CREATE TABLE import_jobs (
  request_id TEXT PRIMARY KEY REFERENCES requests(id) ON DELETE CASCADE,
  phase TEXT NOT NULL,
  group_tag TEXT NOT NULL,
  assigned_user TEXT NOT NULL,
  device_name TEXT NOT NULL,
  comment TEXT NOT NULL,
  approver TEXT NOT NULL,
  approved_at INTEGER NOT NULL,
  import_attempts INTEGER NOT NULL,
  import_id TEXT NOT NULL,
  registration_id TEXT NOT NULL,
  aad_device_id TEXT NOT NULL,
  entra_object_id TEXT NOT NULL,
  outcome_code INTEGER,
  outcome_name TEXT,
  outcome_message TEXT,
  phase_started_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX import_jobs_open ON import_jobs(approved_at) WHERE phase <> 'done';
)sql",
     R"sql(
CREATE TABLE import_jobs (
  request_id TEXT PRIMARY KEY REFERENCES requests(id) ON DELETE CASCADE,
  phase TEXT NOT NULL,
  group_tag TEXT NOT NULL,
  assigned_user TEXT NOT NULL,
  device_name TEXT NOT NULL,
  comment TEXT NOT NULL,
  approver TEXT NOT NULL,
  approved_at BIGINT NOT NULL,
  import_attempts BIGINT NOT NULL,
  import_id TEXT NOT NULL,
  registration_id TEXT NOT NULL,
  aad_device_id TEXT NOT NULL,
  entra_object_id TEXT NOT NULL,
  outcome_code BIGINT,
  outcome_name TEXT,
  outcome_message TEXT,
  phase_started_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX import_jobs_open ON import_jobs(approved_at) WHERE phase <> 'done';
)sql"},
    // 3. Sign-ins, sessions, audit and the timeline.
    {R"sql(
CREATE TABLE pending_logins (
  state TEXT PRIMARY KEY,
  nonce TEXT NOT NULL,
  code_verifier TEXT NOT NULL,
  return_to TEXT NOT NULL,
  created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE sessions (
  id_hash TEXT PRIMARY KEY,
  oid TEXT NOT NULL,
  tid TEXT NOT NULL,
  upn TEXT NOT NULL,
  name TEXT NOT NULL,
  groups_json TEXT NOT NULL,
  csrf_token TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE audit_events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  actor_oid TEXT NOT NULL,
  actor_upn TEXT NOT NULL,
  address TEXT NOT NULL,
  action TEXT NOT NULL,
  request_id TEXT NOT NULL,
  detail TEXT NOT NULL
);
CREATE INDEX audit_events_by_time ON audit_events(at);
CREATE INDEX audit_events_by_request ON audit_events(request_id);
CREATE TABLE request_steps (
  request_id TEXT NOT NULL REFERENCES requests(id) ON DELETE CASCADE,
  at INTEGER NOT NULL,
  state TEXT NOT NULL,
  step TEXT NOT NULL
);
CREATE INDEX request_steps_by_request ON request_steps(request_id, at);
CREATE TRIGGER request_steps_on_create AFTER INSERT ON requests BEGIN
  INSERT INTO request_steps VALUES (NEW.id, NEW.created_at, NEW.state, NEW.step);
END;
CREATE TRIGGER request_steps_on_change AFTER UPDATE OF state, step ON requests
WHEN NEW.state <> OLD.state OR NEW.step <> OLD.step BEGIN
  INSERT INTO request_steps VALUES (NEW.id, NEW.updated_at, NEW.state, NEW.step);
END;
)sql",
     R"sql(
CREATE TABLE pending_logins (
  state TEXT PRIMARY KEY,
  nonce TEXT NOT NULL,
  code_verifier TEXT NOT NULL,
  return_to TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE TABLE sessions (
  id_hash TEXT PRIMARY KEY,
  oid TEXT NOT NULL,
  tid TEXT NOT NULL,
  upn TEXT NOT NULL,
  name TEXT NOT NULL,
  groups_json TEXT NOT NULL,
  csrf_token TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  last_seen_at BIGINT NOT NULL
);
CREATE TABLE audit_events (
  seq BIGSERIAL PRIMARY KEY,
  at BIGINT NOT NULL,
  actor_oid TEXT NOT NULL,
  actor_upn TEXT NOT NULL,
  address TEXT NOT NULL,
  action TEXT NOT NULL,
  request_id TEXT NOT NULL,
  detail TEXT NOT NULL
);
CREATE INDEX audit_events_by_time ON audit_events(at);
CREATE INDEX audit_events_by_request ON audit_events(request_id);
-- "rowid" as SQLite names its implicit column: the store orders steps by (at, rowid).
CREATE TABLE request_steps (
  request_id TEXT NOT NULL REFERENCES requests(id) ON DELETE CASCADE,
  at BIGINT NOT NULL,
  state TEXT NOT NULL,
  step TEXT NOT NULL,
  rowid BIGSERIAL
);
CREATE INDEX request_steps_by_request ON request_steps(request_id, at);
CREATE FUNCTION apm_request_steps() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO request_steps(request_id, at, state, step)
      VALUES (NEW.id, NEW.created_at, NEW.state, NEW.step);
  ELSIF NEW.state <> OLD.state OR NEW.step <> OLD.step THEN
    INSERT INTO request_steps(request_id, at, state, step)
      VALUES (NEW.id, NEW.updated_at, NEW.state, NEW.step);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER request_steps_on_create AFTER INSERT ON requests
  FOR EACH ROW EXECUTE FUNCTION apm_request_steps();
CREATE TRIGGER request_steps_on_change AFTER UPDATE OF state, step ON requests
  FOR EACH ROW EXECUTE FUNCTION apm_request_steps();
)sql"},
    // 4. Duplicate detection compares serials without case.
    {R"sql(
CREATE INDEX requests_open_by_serial_nocase ON requests(serial_number COLLATE NOCASE)
  WHERE finished_at = 0;
DROP INDEX requests_open_by_serial;
)sql",
     R"sql(
CREATE INDEX requests_open_by_serial_lower ON requests(lower(serial_number))
  WHERE finished_at = 0;
DROP INDEX requests_open_by_serial;
)sql"},
    // 5. The repair path: what the tenant held for the serial, and what the approver chose.
    {R"sql(
ALTER TABLE requests ADD COLUMN registration TEXT NOT NULL DEFAULT '';
ALTER TABLE requests ADD COLUMN registration_checked_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE requests ADD COLUMN requested_action TEXT NOT NULL DEFAULT 'import';
CREATE INDEX requests_unchecked ON requests(created_at)
  WHERE state = 'pending_approval' AND registration_checked_at = 0;
ALTER TABLE import_jobs ADD COLUMN action TEXT NOT NULL DEFAULT 'import';
ALTER TABLE import_jobs ADD COLUMN registration_to_replace TEXT NOT NULL DEFAULT '';
ALTER TABLE import_jobs ADD COLUMN old_managed_device_id TEXT NOT NULL DEFAULT '';
ALTER TABLE import_jobs ADD COLUMN delete_attempts INTEGER NOT NULL DEFAULT 0;
)sql",
     R"sql(
ALTER TABLE requests ADD COLUMN registration TEXT NOT NULL DEFAULT '';
ALTER TABLE requests ADD COLUMN registration_checked_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE requests ADD COLUMN requested_action TEXT NOT NULL DEFAULT 'import';
CREATE INDEX requests_unchecked ON requests(created_at)
  WHERE state = 'pending_approval' AND registration_checked_at = 0;
ALTER TABLE import_jobs ADD COLUMN action TEXT NOT NULL DEFAULT 'import';
ALTER TABLE import_jobs ADD COLUMN registration_to_replace TEXT NOT NULL DEFAULT '';
ALTER TABLE import_jobs ADD COLUMN old_managed_device_id TEXT NOT NULL DEFAULT '';
ALTER TABLE import_jobs ADD COLUMN delete_attempts BIGINT NOT NULL DEFAULT 0;
)sql"},
    // 6. Serials compared with lower() on both backends; leases (the import engine's holder).
    {R"sql(
CREATE INDEX requests_open_by_serial_lower ON requests(lower(serial_number))
  WHERE finished_at = 0;
DROP INDEX requests_open_by_serial_nocase;
CREATE TABLE leases (
  name TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
)sql",
     R"sql(
CREATE TABLE leases (
  name TEXT PRIMARY KEY,
  holder TEXT NOT NULL,
  expires_at BIGINT NOT NULL
);
)sql"},
    // 7. Import records whose deletion runs in the background, after their job moved on.
    {R"sql(
CREATE TABLE import_record_deletions (
  import_id TEXT PRIMARY KEY,
  request_id TEXT NOT NULL,
  queued_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX import_record_deletions_due ON import_record_deletions(next_at);
)sql",
     R"sql(
CREATE TABLE import_record_deletions (
  import_id TEXT PRIMARY KEY,
  request_id TEXT NOT NULL,
  queued_at BIGINT NOT NULL,
  attempts BIGINT NOT NULL DEFAULT 0,
  next_at BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX import_record_deletions_due ON import_record_deletions(next_at);
)sql"},
    // 8. How long recent waits took per phase: the engine polls when a change is likely.
    {R"sql(
CREATE TABLE step_times (
  phase TEXT NOT NULL,
  finished_at INTEGER NOT NULL,
  took_ms INTEGER NOT NULL
);
CREATE INDEX step_times_newest ON step_times(phase, finished_at);
)sql",
     R"sql(
CREATE TABLE step_times (
  phase TEXT NOT NULL,
  finished_at BIGINT NOT NULL,
  took_ms BIGINT NOT NULL
);
CREATE INDEX step_times_newest ON step_times(phase, finished_at);
)sql"},
    // 9. What the original's decision functions said about a request.
    {R"sql(
ALTER TABLE requests ADD COLUMN function_validation TEXT NOT NULL DEFAULT '';
ALTER TABLE requests ADD COLUMN proposed_group_tag TEXT NOT NULL DEFAULT '';
)sql",
     R"sql(
ALTER TABLE requests ADD COLUMN function_validation TEXT NOT NULL DEFAULT '';
ALTER TABLE requests ADD COLUMN proposed_group_tag TEXT NOT NULL DEFAULT '';
)sql"},
    // 10. The event outbox: every state a request enters, written by the database in the
    // transaction that changed it, and its deliveries to the notification channels.
    {R"sql(
CREATE TABLE request_events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  request_id TEXT NOT NULL,
  state TEXT NOT NULL,
  at INTEGER NOT NULL,
  queued INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX request_events_unqueued ON request_events(seq) WHERE queued = 0;
CREATE TRIGGER request_events_on_create AFTER INSERT ON requests BEGIN
  INSERT INTO request_events (request_id, state, at) VALUES (NEW.id, NEW.state, NEW.created_at);
END;
CREATE TRIGGER request_events_on_change AFTER UPDATE OF state ON requests
WHEN NEW.state <> OLD.state BEGIN
  INSERT INTO request_events (request_id, state, at) VALUES (NEW.id, NEW.state, NEW.updated_at);
END;
CREATE TABLE event_deliveries (
  event_seq INTEGER NOT NULL,
  channel TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_at INTEGER NOT NULL,
  gave_up_at INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (event_seq, channel)
) WITHOUT ROWID;
CREATE INDEX event_deliveries_due ON event_deliveries(next_at) WHERE gave_up_at = 0;
)sql",
     R"sql(
CREATE TABLE request_events (
  seq BIGSERIAL PRIMARY KEY,
  request_id TEXT NOT NULL,
  state TEXT NOT NULL,
  at BIGINT NOT NULL,
  queued BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX request_events_unqueued ON request_events(seq) WHERE queued = 0;
CREATE FUNCTION apm_request_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO request_events (request_id, state, at) VALUES (NEW.id, NEW.state, NEW.created_at);
  ELSIF NEW.state <> OLD.state THEN
    INSERT INTO request_events (request_id, state, at) VALUES (NEW.id, NEW.state, NEW.updated_at);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER request_events_on_create AFTER INSERT ON requests
  FOR EACH ROW EXECUTE FUNCTION apm_request_events();
CREATE TRIGGER request_events_on_change AFTER UPDATE OF state ON requests
  FOR EACH ROW EXECUTE FUNCTION apm_request_events();
CREATE TABLE event_deliveries (
  event_seq BIGINT NOT NULL,
  channel TEXT NOT NULL,
  attempts BIGINT NOT NULL DEFAULT 0,
  next_at BIGINT NOT NULL,
  gave_up_at BIGINT NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (event_seq, channel)
);
CREATE INDEX event_deliveries_due ON event_deliveries(next_at) WHERE gave_up_at = 0;
)sql"},
    // 11. The audit trail's export to Azure Monitor: which events were acknowledged.
    {R"sql(
ALTER TABLE audit_events ADD COLUMN exported INTEGER NOT NULL DEFAULT 0;
CREATE INDEX audit_events_unexported ON audit_events(seq) WHERE exported = 0;
)sql",
     R"sql(
ALTER TABLE audit_events ADD COLUMN exported BIGINT NOT NULL DEFAULT 0;
CREATE INDEX audit_events_unexported ON audit_events(seq) WHERE exported = 0;
)sql"},
    // 12. A bulk upload's Assigned User column, kept with the request for its approval.
    {R"sql(
ALTER TABLE requests ADD COLUMN proposed_user TEXT NOT NULL DEFAULT '';
)sql",
     R"sql(
ALTER TABLE requests ADD COLUMN proposed_user TEXT NOT NULL DEFAULT '';
)sql"},
    // 13. Diagnostics bundles sent by devices, removed with their request. The zip is kept as
    // base64 text: the store binds text on both backends, and a bundle is at most 8 MiB (a
    // rowid table in SQLite: rows this large do not belong in a WITHOUT ROWID b-tree).
    {R"sql(
CREATE TABLE request_diagnostics (
  request_id TEXT NOT NULL REFERENCES requests(id) ON DELETE CASCADE,
  number INTEGER NOT NULL,
  file_name TEXT NOT NULL,
  uploaded_at INTEGER NOT NULL,
  address TEXT NOT NULL,
  size_bytes INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  content_base64 TEXT NOT NULL,
  PRIMARY KEY (request_id, number)
);
)sql",
     R"sql(
CREATE TABLE request_diagnostics (
  request_id TEXT NOT NULL REFERENCES requests(id) ON DELETE CASCADE,
  number BIGINT NOT NULL,
  file_name TEXT NOT NULL,
  uploaded_at BIGINT NOT NULL,
  address TEXT NOT NULL,
  size_bytes BIGINT NOT NULL,
  sha256 TEXT NOT NULL,
  content_base64 TEXT NOT NULL,
  PRIMARY KEY (request_id, number)
);
)sql"},
};

}  // namespace

std::span<const SchemaMigration> Migrations() {
  return kMigrations;
}

}  // namespace apm
