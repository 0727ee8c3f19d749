#include "server/store/sql_copy.h"

#include <array>

namespace apm {
namespace {

struct Column {
  const char* name;
  bool integer;
};

struct Table {
  const char* name;
  std::vector<Column> columns;
  const char* order;
};

// What a copy carries; leases are not copied (they belong to running instances).
const std::vector<Table>& Tables() {
  static const std::vector<Table> tables = {
      {"requests",
       {{"id", false},
        {"serial_number", false},
        {"manufacturer", false},
        {"model", false},
        {"hardware_hash", false},
        {"hash_fingerprint", false},
        {"product_key", false},
        {"client_version", false},
        {"client_address", false},
        {"api", false},
        {"verification", false},
        {"hash_facts", false},
        {"state", false},
        {"step", false},
        {"error_code", true},
        {"error_name", false},
        {"error_message", false},
        {"created_at", true},
        {"updated_at", true},
        {"expires_at", true},
        {"finished_at", true},
        {"version", true},
        {"change_seq", true},
        {"registration", false},
        {"registration_checked_at", true},
        {"requested_action", false},
        {"function_validation", false},
        {"proposed_group_tag", false},
        {"proposed_user", false}},
       "created_at, id"},
      {"request_aliases", {{"alias", false}, {"request_id", false}}, "alias"},
      {"import_jobs",
       {{"request_id", false},
        {"phase", false},
        {"group_tag", false},
        {"assigned_user", false},
        {"device_name", false},
        {"comment", false},
        {"approver", false},
        {"approved_at", true},
        {"import_attempts", true},
        {"import_id", false},
        {"registration_id", false},
        {"aad_device_id", false},
        {"entra_object_id", false},
        {"outcome_code", true},
        {"outcome_name", false},
        {"outcome_message", false},
        {"phase_started_at", true},
        {"updated_at", true},
        {"action", false},
        {"registration_to_replace", false},
        {"old_managed_device_id", false},
        {"delete_attempts", true}},
       "request_id"},
      {"import_record_deletions",
       {{"import_id", false},
        {"request_id", false},
        {"queued_at", true},
        {"attempts", true},
        {"next_at", true}},
       "import_id"},
      {"step_times",
       {{"phase", false}, {"finished_at", true}, {"took_ms", true}},
       "phase, finished_at, took_ms"},
      {"request_diagnostics",
       {{"request_id", false},
        {"number", true},
        {"file_name", false},
        {"uploaded_at", true},
        {"address", false},
        {"size_bytes", true},
        {"sha256", false},
        {"content_base64", false}},
       "request_id, number"},
      // The target's triggers wrote a first step for each request; the source's replace them.
      {"request_steps",
       {{"request_id", false}, {"at", true}, {"state", false}, {"step", false}},
       "at, rowid"},
      // The same for the events; the outbox's deliveries move with them, waiting or not.
      {"request_events",
       {{"seq", true}, {"request_id", false}, {"state", false}, {"at", true}, {"queued", true}},
       "seq"},
      {"event_deliveries",
       {{"event_seq", true},
        {"channel", false},
        {"attempts", true},
        {"next_at", true},
        {"gave_up_at", true},
        {"last_error", false}},
       "event_seq, channel"},
      {"pending_logins",
       {{"state", false},
        {"nonce", false},
        {"code_verifier", false},
        {"return_to", false},
        {"created_at", true}},
       "state"},
      {"sessions",
       {{"id_hash", false},
        {"oid", false},
        {"tid", false},
        {"upn", false},
        {"name", false},
        {"groups_json", false},
        {"csrf_token", false},
        {"created_at", true},
        {"last_seen_at", true}},
       "id_hash"},
      {"audit_events",
       {{"seq", true},
        {"at", true},
        {"actor_oid", false},
        {"actor_upn", false},
        {"address", false},
        {"action", false},
        {"request_id", false},
        {"detail", false},
        {"exported", true}},
       "seq"},
  };
  return tables;
}

// `sql` must outlive the connection's use of it (statements are cached by its address).
Result<int64_t> Count(SqlConnection& c, const char* sql) {
  Result<SqlStatement> s = c.Statement(sql);
  if (!s.ok()) return s.status();
  if (s->Step() != SqlStep::kRow) return c.Error("count");
  return s->Int(0);
}

// Copies one table's rows and checks the target's count; `text` keeps statement texts alive.
template <typename Keep>
Result<int64_t> CopyTable(SqlConnection& from, SqlConnection& to, const Table& t, Keep& text) {
  std::string cols, params;
  for (size_t i = 0; i < t.columns.size(); ++i) {
    cols += (i ? ", " : "") + std::string(t.columns[i].name);
    params += (i ? ", ?" : "?") + std::to_string(i + 1);
  }
  if (std::string(t.name) == "request_steps" || std::string(t.name) == "request_events") {
    if (Status s = to.Exec(text("DELETE FROM " + std::string(t.name))); !s.ok()) return s;
  }
  Result<SqlStatement> select =
      from.Statement(text("SELECT " + cols + " FROM " + t.name + " ORDER BY " + t.order));
  if (!select.ok()) return select.status();
  const char* insert =
      text(std::string("INSERT INTO ") + t.name + " (" + cols + ") VALUES (" + params + ")");
  int64_t copied = 0;
  SqlStep rc;
  while ((rc = select->Step()) == SqlStep::kRow) {
    Result<SqlStatement> ins = to.Statement(insert);
    if (!ins.ok()) return ins.status();
    for (size_t i = 0; i < t.columns.size(); ++i) {
      int col = int(i), param = int(i + 1);
      if (select->IsNull(col)) {
        ins->BindNull(param);
      } else if (t.columns[i].integer) {
        ins->Bind(param, select->Int(col));
      } else {
        ins->Bind(param, select->Text(col));
      }
    }
    if (Status s = RunToCompletion(to, *ins, "copy row"); !s.ok()) return s;
    ++copied;
  }
  if (rc != SqlStep::kDone) return from.Error("read rows");
  Result<int64_t> target = Count(to, text(std::string("SELECT COUNT(*) FROM ") + t.name));
  if (!target.ok()) return target.status();
  if (*target != copied) {
    return Status::Internal(std::string("copy of ") + t.name + " read " + std::to_string(copied) +
                            " rows but the target holds " + std::to_string(*target) +
                            "; nothing was committed");
  }
  return copied;
}

}  // namespace

std::map<std::string, std::set<std::string>> CopiedColumns() {
  std::map<std::string, std::set<std::string>> out;
  for (const Table& t : Tables()) {
    for (const auto& column : t.columns) out[t.name].insert(column.name);
  }
  return out;
}

Result<CopyReport> CopyDatabase(SqlConnection& from, SqlConnection& to) {
  // Statements are cached by the address of their text: every text lives until the end.
  std::vector<std::string> sql;
  sql.reserve(64);
  auto text = [&sql](std::string s) -> const char* {
    return sql.emplace_back(std::move(s)).c_str();
  };

  SqlTransaction read(from);
  if (Status s = read.BeginRead(); !s.ok()) return s;
  SqlTransaction write(to);
  if (Status s = write.BeginWrite(); !s.ok()) return s;
  for (const char* table : {"requests", "sessions", "audit_events"}) {
    Result<int64_t> n = Count(to, text(std::string("SELECT COUNT(*) FROM ") + table));
    if (!n.ok()) return n.status();
    if (*n > 0) {
      return Status::FailedPrecondition(std::string("the target database is not empty (") + table +
                                        " holds " + std::to_string(*n) +
                                        " rows); copy into a new, empty database");
    }
  }
  CopyReport report;
  for (const Table& t : Tables()) {
    Result<int64_t> copied = CopyTable(from, to, t, text);
    if (!copied.ok()) return copied.status();
    report.rows.emplace_back(t.name, *copied);
  }
  // The change feed continues where the source's stopped, so no client misses a change.
  Result<SqlStatement> seq = from.Statement("SELECT value FROM counters WHERE name = 'change_seq'");
  if (!seq.ok()) return seq.status();
  if (seq->Step() != SqlStep::kRow) return from.Error("read change counter");
  int64_t change_seq = seq->Int(0);
  Result<SqlStatement> set =
      to.Statement("UPDATE counters SET value = ?1 WHERE name = 'change_seq'");
  if (!set.ok()) return set.status();
  set->Bind(1, change_seq);
  if (Status s = RunToCompletion(to, *set, "set change counter"); !s.ok()) return s;
  if (to.dialect() == SqlDialect::kPostgres) {
    for (const char* sql : {"SELECT setval(pg_get_serial_sequence('audit_events', 'seq'), "
                            "COALESCE((SELECT MAX(seq) FROM audit_events), 0) + 1, false)",
                            "SELECT setval(pg_get_serial_sequence('request_events', 'seq'), "
                            "COALESCE((SELECT MAX(seq) FROM request_events), 0) + 1, false)"}) {
      if (Status s = to.Exec(sql); !s.ok()) return s;
    }
  }
  if (Status s = write.Commit(); !s.ok()) return s;
  return report;
}

}  // namespace apm
