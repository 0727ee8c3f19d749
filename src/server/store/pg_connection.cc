#include "server/store/pg_connection.h"

#include <libpq-fe.h>

#include <cstdlib>
#include <optional>
#include <vector>

namespace apm {
namespace {

constexpr Oid kInt8Oid = 20;
constexpr Oid kTextOid = 25;
// Every instance's write transactions take this transaction-scoped advisory lock first.
constexpr const char* kBeginWrite = "BEGIN; SELECT pg_advisory_xact_lock(7426001)";

// SQLSTATE classes where the same call may work later: the link, the server going away, a lock
// or statement timeout, a serialization failure, resources.
bool Transient(const std::string& sqlstate) {
  if (sqlstate.empty()) return true;  // no answer at all: the connection failed
  std::string_view cls = std::string_view(sqlstate).substr(0, 2);
  return cls == "08" || cls == "53" || cls == "57" || cls == "40" || sqlstate == "55P03";
}

void IgnoreNotice(void*, const char*) {}

}  // namespace

std::string PgParameters(std::string_view sql) {
  std::string out;
  out.reserve(sql.size());
  bool in_literal = false;
  for (char ch : sql) {
    if (ch == '\'') in_literal = !in_literal;
    out.push_back(!in_literal && ch == '?' ? '$' : ch);
  }
  return out;
}

bool IsPostgresUrl(std::string_view url) {
  return url.starts_with("postgresql://") || url.starts_with("postgres://") ||
         url.find('=') != std::string_view::npos;
}

class PgConnection::Cursor : public SqlCursor {
 public:
  Cursor(PgConnection* conn, const char* sql) : conn_(conn), sql_(PgParameters(sql)) {}
  ~Cursor() override { Reset(); }

  void Bind(int i, std::string_view v) override { Set(i, std::string(v), kTextOid); }
  void Bind(int i, int64_t v) override { Set(i, std::to_string(v), kInt8Oid); }
  void BindNull(int i) override { Set(i, std::nullopt, 0); }

  SqlStep Step() override {
    if (!result_) {
      std::vector<const char*> values;
      for (const auto& p : params_) values.push_back(p ? p->c_str() : nullptr);
      // Prepared on first use (parsed and planned once per connection), with the parameter
      // types of that use; a NULL's type is left to the server to infer from the statement.
      if (name_.empty()) {
        std::string name = "apm" + std::to_string(++conn_->prepared_);
        PGresult* prepared =
            PQprepare(conn_->conn_, name.c_str(), sql_.c_str(), int(types_.size()), types_.data());
        bool ok = conn_->Check(prepared, "prepare");
        PQclear(prepared);
        if (!ok) return SqlStep::kError;
        name_ = std::move(name);
      }
      result_ = PQexecPrepared(conn_->conn_, name_.c_str(), int(values.size()), values.data(),
                               nullptr, nullptr, 0);
      if (!conn_->Check(result_, "statement")) return SqlStep::kError;
      row_ = -1;
    }
    ++row_;
    return row_ < PQntuples(result_) ? SqlStep::kRow : SqlStep::kDone;
  }
  std::string Text(int col) const override {
    return std::string(PQgetvalue(result_, row_, col), size_t(PQgetlength(result_, row_, col)));
  }
  int64_t Int(int col) const override {
    return std::strtoll(PQgetvalue(result_, row_, col), nullptr, 10);
  }
  bool IsNull(int col) const override { return PQgetisnull(result_, row_, col) != 0; }
  void Reset() override {
    if (result_) PQclear(result_);
    result_ = nullptr;
    params_.clear();
    types_.clear();
  }

 private:
  void Set(int i, std::optional<std::string> v, Oid type) {
    size_t at = size_t(i - 1);
    if (params_.size() <= at) {
      params_.resize(at + 1);
      types_.resize(at + 1, 0);
    }
    params_[at] = std::move(v);
    types_[at] = type;
  }

  PgConnection* conn_;
  std::string sql_;
  std::string name_;  // of the prepared statement, once prepared
  std::vector<std::optional<std::string>> params_;
  std::vector<Oid> types_;
  PGresult* result_ = nullptr;
  int row_ = -1;
};

Result<std::unique_ptr<PgConnection>> PgConnection::Open(const PgOptions& options) {
  std::string timeout = std::to_string(options.connect_timeout_seconds);
  // Defaults first; values in the URL (expanded from dbname) override them.
  // A link that stops answering (a failover, a cut network) fails within seconds instead of the
  // kernel's minutes, so the engine's lease is given up in time (LeaseKeeper).
  const char* keys[] = {"connect_timeout",  "application_name", "client_encoding",
                        "tcp_user_timeout", "keepalives_idle",  "keepalives_interval",
                        "keepalives_count", "dbname",           nullptr};
  const char* values[] = {timeout.c_str(),     "apm-server", "UTF8", "5000", "5", "2", "2",
                          options.url.c_str(), nullptr};
  PGconn* conn = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (!conn || PQstatus(conn) != CONNECTION_OK) {
    std::string msg = conn ? PQerrorMessage(conn) : "out of memory";
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    PQfinish(conn);
    return Status::Unavailable("cannot connect to PostgreSQL: " + msg);
  }
  PQsetNoticeProcessor(conn, IgnoreNotice, nullptr);
  auto c = std::unique_ptr<PgConnection>(new PgConnection(conn));
  std::string settings = "SET statement_timeout = " + std::to_string(options.statement_timeout_ms) +
                         "; SET lock_timeout = " + std::to_string(options.lock_timeout_ms) +
                         "; SET idle_in_transaction_session_timeout = 60000"
                         // Parsed once, planned for each use's values: a generic plan made
                         // while the table was small scanned it whole later (5x slower).
                         "; SET plan_cache_mode = force_custom_plan";
  if (Status s = c->Exec(settings.c_str()); !s.ok()) return s;
  return c;
}

PgConnection::PgConnection(pg_conn* conn) : conn_(conn) {}

PgConnection::~PgConnection() {
  statements_.clear();
  PQfinish(conn_);
}

bool PgConnection::Check(PGresult* result, const char* what) {
  ExecStatusType st = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
    const char* n = PQcmdTuples(result);
    changes_ = (n && *n) ? std::strtoll(n, nullptr, 10) : 0;
    return true;
  }
  const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  sqlstate_ = state ? state : "";
  error_ = std::string(what) + ": " + (result ? PQresultErrorMessage(result) : "");
  if (!result || error_.size() <= std::string(what).size() + 2) error_ += PQerrorMessage(conn_);
  while (!error_.empty() && (error_.back() == '\n' || error_.back() == ' ')) error_.pop_back();
  return false;
}

Status PgConnection::Exec(const char* sql) {
  PGresult* r = PQexec(conn_, sql);
  bool ok = Check(r, "exec");
  PQclear(r);
  return ok ? Status::Ok() : Error("exec");
}

Result<SqlStatement> PgConnection::Statement(const char* sql) {
  auto it = statements_.find(sql);
  if (it == statements_.end())
    it = statements_.emplace(sql, std::make_unique<Cursor>(this, sql)).first;
  return SqlStatement(it->second.get());
}

Status PgConnection::Error(const char* what) const {
  std::string msg = std::string("postgresql ") + what + ": " + error_;
  if (!Healthy() || Transient(sqlstate_)) return Status::Unavailable(msg);
  return Status::Internal(msg);
}

Status PgConnection::BeginWrite() {
  Status s = Exec(kBeginWrite);
  // BEGIN ran but the lock timed out: end that transaction, or every later call would fail.
  if (!s.ok() && PQtransactionStatus(conn_) != PQTRANS_IDLE) (void)Exec("ROLLBACK");
  return s;
}

Status PgConnection::BeginRead() {
  return Exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
}

bool PgConnection::Healthy() const {
  return PQstatus(conn_) == CONNECTION_OK;
}

Result<int> PgConnection::SchemaVersion() {
  if (Status s = Exec("CREATE TABLE IF NOT EXISTS apm_schema (version INTEGER NOT NULL)");
      !s.ok()) {
    return s;
  }
  Result<SqlStatement> s = Statement("SELECT COALESCE(MAX(version), 0) FROM apm_schema");
  if (!s.ok()) return s.status();
  if (s->Step() != SqlStep::kRow) return Error("read schema version");
  return int(s->Int(0));
}

Status PgConnection::SetSchemaVersion(int version) {
  std::string set =
      "DELETE FROM apm_schema; INSERT INTO apm_schema VALUES (" + std::to_string(version) + ")";
  return Exec(set.c_str());
}

int PgConnection::Socket() const {
  return PQsocket(conn_);
}

Result<std::string> PgConnection::NextNotification() {
  if (!PQconsumeInput(conn_)) {
    error_ = PQerrorMessage(conn_);
    sqlstate_.clear();
    return Error("listen");
  }
  PGnotify* n = PQnotifies(conn_);
  if (!n) return std::string();
  std::string channel = n->relname;
  PQfreemem(n);
  return channel;
}

}  // namespace apm
