// The web handler's history pages: imports and the audit trail, as pages and as CSV.
#include <boost/asio/post.hpp>
#include <nlohmann/json.hpp>

#include "core/text.h"
#include "server/http/responses.h"
#include "server/logging.h"
#include "server/web/page_text.h"
#include "server/web/visit.h"

namespace apm::web {

using json = nlohmann::json;

void WebHandler::ViewImports(Visit& v, bool csv) {
  if (!Require(v, v.roles.viewer, "viewer", "ViewerSecurityGroup")) return;
  std::string state_filter = Param(v.req, "state");
  std::string from = Param(v.req, "from");
  std::string to = Param(v.req, "to");
  RequestFilter filter;
  filter.limit = 1000;
  filter.imported_only = true;
  if (!state_filter.empty()) {
    filter.state = ParseRequestState(state_filter);
    if (!filter.state) {
      return Message(v, http::status::bad_request, "Unknown state",
                     "\"" + state_filter + "\" is not a request state.");
    }
  }
  std::optional<int64_t> from_ms = DayStartMs(from), to_ms = DayStartMs(to);
  if ((!from.empty() && !from_ms) || (!to.empty() && !to_ms)) {
    return Message(v, http::status::bad_request, "Unknown date",
                   "Dates are written YYYY-MM-DD (UTC).");
  }
  filter.approved_from = from_ms.value_or(0);
  filter.approved_to = to_ms ? *to_ms + 86'400'000 : 0;  // the whole "to" day
  Result<std::vector<StoredRequest>> list = store_.List(filter);
  if (!list.ok()) {
    return Message(v, http::status::service_unavailable, "Unavailable",
                   "The history cannot be read right now. Try again.");
  }
  std::string text =
      "approved_at,finished_at,request_id,serial_number,manufacturer,model,"
      "group_tag,approver,comment,state,outcome,timeline\r\n";
  TemplateData jobs{TemplateData::type::list};
  size_t job_rows = 0;
  bool running = false;
  for (const StoredRequest& r : *list) {
    Result<ImportJob> job = store_.GetJob(r.id);
    if (!job.ok()) continue;  // never approved: not an import
    std::string outcome =
        r.error ? ErrorText(*r.error) : (r.state == RequestState::kCompleted ? "done" : "");
    running |= !IsTerminal(r.state);
    Result<std::vector<RequestStep>> steps = store_.Steps(r.id);
    std::string steps_text = steps.ok() ? StepsText(*steps) : "";
    std::string finished = r.finished_at ? FormatTimestamp(r.finished_at) : "";
    if (csv) {
      for (const std::string& f :
           {FormatTimestamp(job->approved_at), finished, r.id, r.serial_number, r.manufacturer,
            r.model, job->approval.group_tag, job->approval.approver, job->approval.comment,
            std::string(RequestStateName(r.state)), outcome, steps_text}) {
        text += CsvField(f) + ",";
      }
      EndCsvLine(&text);
      continue;
    }
    jobs.push_back(ImportRow(r, *job, outcome, steps_text));
    ++job_rows;
  }
  if (csv) {
    StringResponse res =
        Respond(v.req, http::status::ok, std::move(text), "text/csv; charset=utf-8");
    res.set(http::field::content_disposition, "attachment; filename=\"autopilot-imports.csv\"");
    return v.reply(std::move(res), v.route);
  }
  TemplateData d;
  d.set("states", StateOptions(state_filter));
  d.set("from", from);
  d.set("to", to);
  d.set("query", v.req.query);
  d.set("has_jobs", job_rows > 0);
  d.set("jobs", jobs);
  Frame frame = Titled("Import history");
  frame.auto_refresh = running;
  SendPage(v, http::status::ok, frame, PageTemplate::kViewImports, d);
}

void WebHandler::AuditPage(Visit& v, bool csv) {
  if (!Require(v, v.roles.viewer, "viewer", "ViewerSecurityGroup")) return;
  AuditFilter filter;
  filter.limit = csv ? 100000 : 500;
  Result<std::vector<AuditEvent>> events = session_store_.ListAudit(filter);
  if (!events.ok()) {
    return Message(v, http::status::service_unavailable, "Unavailable",
                   "The audit trail cannot be read right now. Try again.");
  }
  if (csv) {
    std::string text = "at,actor_oid,actor_upn,address,action,request_id,detail\r\n";
    for (const AuditEvent& e : *events) {
      for (const std::string& f : {FormatTimestamp(e.at), e.actor_oid, e.actor_upn, e.address,
                                   e.action, e.request_id, e.detail}) {
        text += CsvField(f) + ",";
      }
      EndCsvLine(&text);
    }
    StringResponse res =
        Respond(v.req, http::status::ok, std::move(text), "text/csv; charset=utf-8");
    res.set(http::field::content_disposition, "attachment; filename=\"autopilot-audit.csv\"");
    return v.reply(std::move(res), v.route);
  }
  TemplateData rows{TemplateData::type::list};
  for (const AuditEvent& e : *events) {
    TemplateData row;
    row.set("at", ShortTime(e.at));
    row.set("at_iso", FormatTimestamp(e.at));
    row.set("who", e.actor_upn.empty() ? (e.actor_oid.empty() ? "(anonymous)" : e.actor_oid)
                                       : e.actor_upn);
    row.set("address", e.address);
    row.set("action", e.action);
    row.set("request_id", e.request_id);
    row.set("detail", e.detail);
    rows.push_back(row);
  }
  TemplateData d;
  d.set("events", rows);
  SendPage(v, http::status::ok, Titled("Audit"), PageTemplate::kAudit, d);
}

}  // namespace apm::web
