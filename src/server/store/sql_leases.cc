// SqlRequestStore's leases: who runs the import engine (and the sweeps) when several instances
// share one database. Times come from the database's clock, so instances' clocks may differ.
#include "server/store/sql_request_store.h"

namespace apm {
namespace {

// Milliseconds since the epoch by the database's own clock.
Result<int64_t> DatabaseNow(SqlConnection& c) {
  Result<SqlStatement> s =
      c.Statement(c.dialect() == SqlDialect::kSqlite
                      ? "SELECT CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)"
                      : "SELECT CAST(extract(epoch FROM clock_timestamp()) * 1000 AS BIGINT)");
  if (!s.ok()) return s.status();
  if (s->Step() != SqlStep::kRow) return c.Error("database clock");
  return s->Int(0);
}

}  // namespace

Result<LeaseGrant> SqlRequestStore::TryLease(const std::string& name, const std::string& holder,
                                             int64_t ttl_ms) {
  // A write transaction: every instance's attempts happen one after the other.
  return InWriteTransaction([&](SqlConnection& c) -> Result<LeaseGrant> {
    Result<int64_t> clock = DatabaseNow(c);
    if (!clock.ok()) return clock.status();
    int64_t now = *clock;
    LeaseGrant grant;
    bool exists = false;
    {
      Result<SqlStatement> s = c.Statement("SELECT holder, expires_at FROM leases WHERE name = ?1");
      if (!s.ok()) return s.status();
      s->Bind(1, name);
      SqlStep rc = s->Step();
      if (rc == SqlStep::kError) return c.Error("read lease");
      if (rc == SqlStep::kRow) {
        exists = true;
        grant.previous_holder = s->Text(0);
        int64_t expires_at = s->Int(1);
        bool others = grant.previous_holder != holder;
        if (others && expires_at >= now) return grant;  // someone else's, running
        grant.from_other = others;
        if (grant.from_other) grant.other_until_ms = expires_at - now;
      }
    }
    Result<SqlStatement> s =
        c.Statement(exists ? "UPDATE leases SET holder = ?2, expires_at = ?3 WHERE name = ?1"
                           : "INSERT INTO leases (name, holder, expires_at) VALUES (?1, ?2, ?3)");
    if (!s.ok()) return s.status();
    s->Bind(1, name).Bind(2, holder).Bind(3, now + ttl_ms);
    if (Status st = RunToCompletion(c, *s, "take lease"); !st.ok()) return st;
    grant.held = true;  // once committed
    return grant;
  });
}

Status SqlRequestStore::ReleaseLease(const std::string& name, const std::string& holder) {
  return InWriteTransaction([&](SqlConnection& c) -> Status {
    Result<int64_t> clock = DatabaseNow(c);
    if (!clock.ok()) return clock.status();
    int64_t now = *clock;
    Result<SqlStatement> s = c.Statement(
        "UPDATE leases SET expires_at = ?3 WHERE name = ?1 AND holder = ?2 AND expires_at > ?3");
    if (!s.ok()) return s.status();
    s->Bind(1, name).Bind(2, holder).Bind(3, now - 1);
    return RunToCompletion(c, *s, "release lease");
  });
}

void SqlRequestStore::FenceJobsWith(std::string name, std::string holder) {
  std::lock_guard lock(write_mu_);
  fence_lease_ = std::move(name);
  fence_holder_ = std::move(holder);
}

Status SqlRequestStore::CheckJobFence(SqlConnection& c) {
  if (fence_lease_.empty()) return Status::Ok();
  Result<SqlStatement> s = c.Statement("SELECT holder FROM leases WHERE name = ?1");
  if (!s.ok()) return s.status();
  s->Bind(1, fence_lease_);
  SqlStep rc = s->Step();
  if (rc == SqlStep::kError) return c.Error("read lease");
  if (rc == SqlStep::kRow && s->Text(0) == fence_holder_) return Status::Ok();
  return Status::FailedPrecondition("not saved: the " + fence_lease_ +
                                    " lease passed to another instance");
}

}  // namespace apm
