// The web handler's upload pages: an approver uploads a reseller's CSV, sees what became of each
// row, and approves the accepted ones together.
#include <algorithm>
#include <set>

#include "core/text.h"
#include "server/logging.h"
#include "server/web/page_text.h"
#include "server/web/visit.h"

namespace apm::web {
namespace {

constexpr std::string_view kUploadPath = "/autopilot/upload";
constexpr std::string_view kApproveUploadedPath = "/autopilot/upload/approve";

// More than a 64 MiB file of UTF-8 rows can hold.
constexpr size_t kMaxApproveAll = 20'000;

// The ids of an "approve all" form, separated by spaces, each once (a file may name a device
// twice), in their order.
std::vector<std::string> IdsOf(std::string_view text) {
  std::vector<std::string> ids;
  std::set<std::string_view> seen;
  for (size_t i = 0; i < text.size();) {
    size_t end = std::min(text.find(' ', i), text.size());
    std::string_view id = text.substr(i, end - i);
    if (!id.empty() && seen.insert(id).second) ids.emplace_back(id);
    i = end + 1;
  }
  return ids;
}

}  // namespace

std::vector<HttpServerOptions::Upload> WebHandler::Uploads(const Config& config) {
  // "Approve all" names every request of an upload: as large as the upload may be.
  const size_t limit = size_t(std::max(config.MaxUploadBytes, config.MaxBodyBytes));
  return {{http::verb::post, std::string(kUploadPath), limit},
          {http::verb::post, std::string(kApproveUploadedPath), limit}};
}

void WebHandler::UploadForm(Visit& v) {
  if (!Require(v, v.roles.approver, "approver", "ApproverSecurityGroup")) return;
  TemplateData d;
  d.set("csrf", v.session->csrf_token);
  d.set("max_mb", std::to_string(config_.MaxUploadBytes / (1024 * 1024)));
  SendPage(v, http::status::ok, Titled("Upload devices"), PageTemplate::kUpload, d);
}

void WebHandler::Upload(Visit& v) {
  if (!v.form_error.empty()) {
    return Message(v, http::status::bad_request, "Not uploaded",
                   "The form could not be read: " + v.form_error + ". Nothing was stored.",
                   std::string(kUploadPath), "Back");
  }
  if (!CheckPost(v)) return;
  if (!Require(v, v.roles.approver, "approver", "ApproverSecurityGroup")) return;
  auto file = v.files.find("file");
  if (file == v.files.end() || file->second.content.empty()) {
    return Message(v, http::status::bad_request, "Not uploaded",
                   "Choose a CSV file with at least one device.", std::string(kUploadPath), "Back");
  }
  const std::string who = v.session->upn.empty() ? v.session->oid : v.session->upn;
  Result<std::vector<IntakeService::UploadOutcome>> outcomes =
      intake_.SubmitUpload(file->second.content, {who, v.session->oid, v.req.client_address});
  if (!outcomes.ok()) {
    return Message(v, http::status::bad_request, "Not uploaded",
                   "Nothing was stored: " + outcomes.status().message() + ".",
                   std::string(kUploadPath), "Back");
  }
  TemplateData refused{TemplateData::type::list}, accepted{TemplateData::type::list};
  std::string ids;
  int created = 0, existing = 0;
  for (const IntakeService::UploadOutcome& o : *outcomes) {
    TemplateData row;
    row.set("line", std::to_string(o.line));
    row.set("serial", o.serial_number);
    if (!o.refusal.empty()) {
      row.set("reason", o.refusal);
      refused.push_back(row);
      continue;
    }
    row.set("id", o.request_id);
    row.set("existing", o.existing);
    // An open request keeps the tag it was stored with; that one is what approval applies.
    std::string tag = o.group_tag;
    if (o.existing) {
      if (Result<StoredRequest> open = store_.Get(o.request_id); open.ok()) {
        tag = open->proposed_group_tag;
      }
    }
    row.set("group_tag", tag);
    accepted.push_back(row);
    ids += (ids.empty() ? "" : " ") + o.request_id;
    (o.existing ? existing : created) += 1;
  }
  const size_t refused_count = outcomes->size() - size_t(created + existing);
  TemplateData d;
  d.set("file", file->second.filename.value_or("The file"));
  d.set("rows", std::to_string(outcomes->size()));
  d.set("created", std::to_string(created));
  d.set("existing", std::to_string(existing));
  d.set("refused", std::to_string(refused_count));
  d.set("has_refused", refused_count > 0);
  d.set("refused_rows", refused);
  d.set("has_accepted", !ids.empty());
  d.set("accepted_rows", accepted);
  d.set("accepted", std::to_string(created + existing));
  d.set("ids", ids);
  d.set("tags", GroupTagOptions(std::nullopt, ""));
  d.set("csrf", v.session->csrf_token);
  SendPage(v, http::status::ok, Titled("Uploaded devices"), PageTemplate::kUploadResult, d);
}

void WebHandler::ApproveUploaded(Visit& v) {
  if (!CheckPost(v)) return;
  if (!Require(v, v.roles.approver, "approver", "ApproverSecurityGroup")) return;
  const std::string tag = v.form["group_tag"];
  if (!IsConfiguredGroupTag(tag)) {
    return Message(v, http::status::bad_request, "Not approved",
                   "The group tag \"" + tag + "\" is not one of the configured tags.");
  }
  const std::vector<std::string> ids = IdsOf(v.form["ids"]);
  if (ids.empty() || ids.size() > kMaxApproveAll) {
    return Message(v, http::status::bad_request, "Not approved",
                   ids.empty() ? std::string("The form names no request.")
                               : "At most " + std::to_string(kMaxApproveAll) +
                                     " requests are approved at once; nothing was approved.");
  }
  const std::string who = v.session->upn.empty() ? v.session->oid : v.session->upn;
  const DecisionContext context{v.session->oid, v.req.client_address, /*approver=*/true};
  TemplateData failed{TemplateData::type::list};
  int approved = 0, not_approved = 0;
  for (const std::string& id : ids) {
    Result<StoredRequest> request = store_.Get(id);
    Result<StoredRequest> outcome = request.status();
    if (request.ok()) {
      Approval a;
      a.approver = who;
      a.group_tag = tag;
      a.comment = Trim(v.form["comment"]);
      ApplyRequestDefaults(*request, /*group_tag_given=*/false, &a);  // the row's own columns
      outcome = approvals_.Approve(id, a, context);  // audited there, with any refusal
    }
    if (outcome.ok()) {
      ++approved;
      continue;
    }
    ++not_approved;
    TemplateData row;
    row.set("id", id);
    row.set("serial", request.ok() ? request->serial_number : std::string("?"));
    row.set("reason", outcome.status().code() == StatusCode::kNotFound
                          ? std::string("there is no such request")
                          : outcome.status().message());
    failed.push_back(row);
  }
  LogInfo("upload approved", {{"by", who}, {"approved", approved}, {"not_approved", not_approved}});
  TemplateData d;
  d.set("approved", std::to_string(approved));
  if (not_approved > 0) d.set("failed_count", std::to_string(not_approved));
  d.set("has_failed", not_approved > 0);
  d.set("failed", failed);
  d.set("viewer", v.roles.viewer);
  SendPage(v, http::status::ok, Titled("Uploaded devices approved"), PageTemplate::kUploadApproved,
           d);
}

}  // namespace apm::web
