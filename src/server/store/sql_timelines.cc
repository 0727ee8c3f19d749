// SqlRequestStore's timelines of recently changed requests: the status page's statistics (how
// long each step took, what failed and why) are computed from them (service_stats.h).
#include "server/store/sql_request_store.h"

namespace apm {

Result<std::vector<RequestTimeline>> SqlRequestStore::TimelinesSince(int64_t since_ms, int limit) {
  return OnReader([&](SqlConnection& c) -> Result<std::vector<RequestTimeline>> {
    // One query: the chosen requests joined to their steps, grouped by request. Finished
    // requests are found by requests_finished, open ones by requests_by_state: no scan of
    // the whole history.
    static const std::string kSql = [] {
      std::string open;
      for (RequestState state : kAllRequestStates) {
        if (IsTerminal(state)) continue;
        open += std::string(open.empty() ? "" : ", ") + "'" + std::string(RequestStateName(state)) +
                "'";
      }
      const std::string columns =
          "SELECT id, state, error_code, error_name, error_message, created_at, finished_at, "
          "updated_at FROM requests ";
      return "SELECT r.id, r.state, r.error_code, r.error_name, r.error_message, "
             "r.created_at, r.finished_at, s.at, s.state, s.step FROM (" +
             columns + "WHERE finished_at <> 0 AND finished_at >= ?1 UNION ALL " + columns +
             "WHERE state IN (" + open +
             ") AND updated_at >= ?1 ORDER BY updated_at DESC LIMIT ?2) AS r "
             "JOIN request_steps AS s ON s.request_id = r.id ORDER BY r.id, s.at, s.rowid";
    }();
    Result<SqlStatement> s = c.Statement(kSql.c_str());
    if (!s.ok()) return s.status();
    s->Bind(1, since_ms).Bind(2, int64_t(limit));
    std::vector<RequestTimeline> timelines;
    SqlStep rc;
    while ((rc = s->Step()) == SqlStep::kRow) {
      if (timelines.empty() || timelines.back().id != s->Text(0)) {
        RequestTimeline t;
        t.id = s->Text(0);
        t.state = ParseRequestState(s->Text(1)).value_or(RequestState::kFailed);
        if (!s->IsNull(2)) t.error = RequestError{s->Int(2), s->Text(3), s->Text(4)};
        t.created_at = s->Int(5);
        t.finished_at = s->Int(6);
        timelines.push_back(std::move(t));
      }
      std::optional<RequestState> state = ParseRequestState(s->Text(8));
      if (state) timelines.back().steps.push_back({s->Int(7), *state, s->Text(9)});
    }
    if (rc != SqlStep::kDone) return c.Error("timelines");
    return timelines;
  });
}

}  // namespace apm
