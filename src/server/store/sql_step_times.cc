// SqlRequestStore's record of how long recent waits took per phase: the import engine polls a
// waiting job when this tenant's recent jobs say its change is likely (importer/step_times.h).
#include <set>

#include "server/store/sql_request_store.h"

namespace apm {

Status SqlRequestStore::RecordStepTimes(const std::vector<StepTime>& times) {
  if (times.empty()) return Status::Ok();
  return InWriteTransaction([&](SqlConnection& c) -> Status {
    std::set<std::string_view> phases;
    for (const StepTime& t : times) {
      Result<SqlStatement> s =
          c.Statement("INSERT INTO step_times (phase, finished_at, took_ms) VALUES (?1, ?2, ?3)");
      if (!s.ok()) return s.status();
      s->Bind(1, std::string(ImportPhaseName(t.phase))).Bind(2, t.finished_at).Bind(3, t.took_ms);
      if (Status st = RunToCompletion(c, *s, "record step time"); !st.ok()) return st;
      phases.insert(ImportPhaseName(t.phase));
    }
    // Only the newest are kept: older than the kStepTimesKept-th newest of its phase goes.
    for (std::string_view phase : phases) {
      Result<SqlStatement> s = c.Statement(
          "DELETE FROM step_times WHERE phase = ?1 AND finished_at < "
          "(SELECT finished_at FROM step_times WHERE phase = ?1 "
          "ORDER BY finished_at DESC LIMIT 1 OFFSET ?2)");
      if (!s.ok()) return s.status();
      s->Bind(1, std::string(phase)).Bind(2, int64_t(kStepTimesKept - 1));
      if (Status st = RunToCompletion(c, *s, "forget old step times"); !st.ok()) return st;
    }
    return Status::Ok();
  });
}

Result<std::vector<StepTime>> SqlRequestStore::RecentStepTimes(int per_phase) {
  return OnReader([&](SqlConnection& c) -> Result<std::vector<StepTime>> {
    Result<SqlStatement> s = c.Statement(
        "SELECT phase, finished_at, took_ms FROM ("
        "SELECT phase, finished_at, took_ms, ROW_NUMBER() OVER "
        "(PARTITION BY phase ORDER BY finished_at DESC) AS newest FROM step_times) AS ranked "
        "WHERE newest <= ?1 ORDER BY phase, finished_at");
    if (!s.ok()) return s.status();
    s->Bind(1, int64_t(per_phase));
    std::vector<StepTime> times;
    SqlStep rc;
    while ((rc = s->Step()) == SqlStep::kRow) {
      std::optional<ImportPhase> phase = ParseImportPhase(s->Text(0));
      if (!phase) continue;  // a phase a newer version knows
      times.push_back({.phase = *phase, .took_ms = s->Int(2), .finished_at = s->Int(1)});
    }
    if (rc != SqlStep::kDone) return c.Error("recent step times");
    return times;
  });
}

}  // namespace apm
