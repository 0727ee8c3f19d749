// The web handler's request pages: a request's page behind its QR link, approving and
// rejecting it, and the approvers' list of pending requests.
#include <boost/asio/post.hpp>
#include <nlohmann/json.hpp>

#include "core/corporate_identifier.h"
#include "core/text.h"
#include "core/validation.h"
#include "server/http/responses.h"
#include "server/logging.h"
#include "server/status_json.h"
#include "server/web/existing_registration.h"
#include "server/web/page_text.h"
#include "server/web/visit.h"

namespace apm::web {

using json = nlohmann::json;

// The group tags an approver chooses from: the configured ones, for a device already registered
// its current tag, and the tag the group tag function proposed. The proposed tag is selected,
// else the current one, else the first.
TemplateData WebHandler::GroupTagOptions(const std::optional<std::string>& current,
                                         const std::string& proposed) const {
  std::vector<GroupTagChoice> choices;
  if (config_.UseApprovalModeGroupTags) {
    choices = GroupTagChoices(config_);
  } else {
    choices.push_back({config_.GroupTag, config_.GroupTag});
  }
  auto offer = [&](const std::string& value, const std::string& label) {
    auto same = [&](const GroupTagChoice& c) { return c.value == value; };
    if (std::none_of(choices.begin(), choices.end(), same)) {
      choices.insert(choices.begin(), {value, label});
    }
  };
  if (current) offer(*current, (current->empty() ? "No group tag" : *current) + " (current)");
  if (!proposed.empty()) offer(proposed, proposed + " (from the group tag function)");
  const std::optional<std::string> selected = proposed.empty() ? current : proposed;
  TemplateData tags{TemplateData::type::list};
  for (const GroupTagChoice& c : choices) {
    TemplateData t;
    t.set("value", c.value);
    t.set("label", c.label);
    t.set("selected", selected ? c.value == *selected : tags.is_empty_list());
    tags.push_back(t);
  }
  return tags;
}

// The existing-registration card, and what each kind of user may do about it.
void WebHandler::AddRegistration(TemplateData& d, const StoredRequest& r, const Visit& v,
                                 bool can_decide) const {
  const int64_t now = clock_.NowMs();
  const RegistrationCheck check = ParseRegistrationCheck(r.registration);
  const std::string summary = RegistrationSummary(check, now);
  if (!summary.empty()) d.set("registration_summary", summary);
  const bool removal_asked =
      r.requested_action == ApprovalActionName(ApprovalAction::kRemoveManagedDevice);
  if (removal_asked) d.set("removal_asked", true);
  const FoundRegistration* one = check.found.size() == 1 ? &check.found.front() : nullptr;
  if (one) d.set("registration_rows", RegistrationRows(*one, now));
  if (!can_decide) return;
  const bool identifier_only =
      r.requested_action == ApprovalActionName(ApprovalAction::kRegisterCorporateIdentifier);
  if (identifier_only) {
    // Nothing is replaced: the registration above is for the approver's information (a device
    // registered for Windows Autopilot runs that, not device preparation).
    if (v.roles.approver) {
      TemplateData fields;
      fields.set("tags", GroupTagOptions(std::nullopt, r.proposed_group_tag));
      d.set("approver_fields", fields);
    }
    return;
  }
  if (v.roles.approver) {
    TemplateData fields;
    fields.set("tags", GroupTagOptions(one ? std::optional(one->device.group_tag) : std::nullopt,
                                       r.proposed_group_tag));
    // An upload's Assigned User first, else the registration's.
    if (!r.proposed_user.empty()) fields.set("assigned_user", r.proposed_user);
    if (one) {
      if (r.proposed_user.empty()) fields.set("assigned_user", one->device.user_principal_name);
      TemplateData actions;
      actions.set("registration_id", one->device.id);
      actions.set("removal_asked", removal_asked);
      actions.set("reregister_checked", config_.UseReRegisterMode);
      actions.set("can_remove", config_.AllowDeletionInApprovalMode && one->managed.has_value());
      fields.set("actions", actions);
    }
    d.set("approver_fields", fields);
  } else if (!check.found.empty()) {
    if (one && config_.AllowSelfServiceReRegister) {
      d.set("self_reregister", one->device.id);
    } else {
      d.set("approve_blocked", true);
    }
  }
}

// Every state and step of a request, with who decided (from the audit trail), oldest first.
TemplateData WebHandler::Timeline(const StoredRequest& r) {
  std::vector<std::pair<int64_t, std::string>> lines;
  if (Result<std::vector<RequestStep>> steps = store_.Steps(r.id); steps.ok()) {
    for (const RequestStep& s : *steps)
      lines.emplace_back(s.at, StateLabel(s.state) + ": " + s.step);
  }
  AuditFilter filter;
  filter.request_id = r.id;
  filter.limit = 50;
  if (Result<std::vector<AuditEvent>> events = session_store_.ListAudit(filter); events.ok()) {
    for (const AuditEvent& e : *events) {
      lines.emplace_back(
          e.at, e.action + " by " + e.actor_upn + (e.detail.empty() ? "" : ": " + e.detail));
    }
  }
  std::stable_sort(lines.begin(), lines.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  TemplateData timeline{TemplateData::type::list};
  for (const auto& [at, text] : lines) {
    TemplateData e;
    e.set("at", TimeOfDay(at));
    e.set("text", text);
    timeline.push_back(e);
  }
  return timeline;
}

void WebHandler::RequestPage(Visit& v, const std::string& id) {
  // Viewers read it (the history and the device's diagnostics), without deciding.
  if (!Require(v, v.roles.general || v.roles.approver || v.roles.viewer, "general access",
               "AuthorizationSecurityGroup"))
    return;
  Result<StoredRequest> r = store_.GetWithHash(id);
  if (!r.ok()) {
    return Message(v, http::status::not_found, "Request not found",
                   "There is no request with this id. It may have been finished long ago and "
                   "removed; start the client on the device again.");
  }
  int64_t now = clock_.NowMs();
  TemplateData d;
  d.set("id", r->id);
  d.set("etag", ETag(*r));
  d.set("terminal", IsTerminal(r->state) ? "true" : "false");
  d.set("state", std::string(RequestStateName(r->state)));
  d.set("state_label", StateLabel(r->state));
  d.set("step", r->step);
  if (r->error) d.set("error", ErrorText(*r->error));
  d.set("serial", r->serial_number);
  d.set("manufacturer", r->manufacturer);
  d.set("model", r->model);
  d.set("verification_text", VerificationText(r->verification));
  // What the customer's validation function said; only the helpdesk approves the last two.
  if (r->function_validation == "passed") d.set("function_validation", "passed");
  if (r->function_validation == "bypassed") {
    d.set("function_validation",
          "skipped: the client asked to bypass it (only an approver may "
          "approve)");
  }
  if (r->function_validation == "unanswered") {
    d.set("function_validation", "did not answer (only an approver may approve)");
  }
  if (r->requested_action == ApprovalActionName(ApprovalAction::kRegisterCorporateIdentifier)) {
    CorporateIdentifier id;
    if (!MakeCorporateIdentifier(r->manufacturer, r->model, r->serial_number, &id)) {
      d.set("corporate_identifier", id.Text());
    }
  }
  json facts = json::parse(r->hash_facts, nullptr, false);
  bool tpm = facts.is_object() && facts.value("tpmPresent", false);
  d.set("tpm", facts.is_object() ? (tpm ? "present " + facts.value("tpmVersion", std::string())
                                        : std::string("not found in the hash"))
                                 : std::string("unknown"));
  d.set("created", ShortTime(r->created_at));
  d.set("created_iso", FormatTimestamp(r->created_at));
  d.set("age", Age(now - r->created_at));
  Result<ImportJob> job = store_.GetJob(r->id);
  if (job.ok()) {
    // Set only when there is something to show: mustache treats "" as a true section.
    for (auto [name, value] : {std::pair{"approved_by", &job->approval.approver},
                               {"group_tag", &job->approval.group_tag},
                               {"comment", &job->approval.comment}}) {
      if (!value->empty()) d.set(name, *value);
    }
  }
  bool pending = r->state == RequestState::kPendingApproval && r->expires_at > now;
  d.set("expired_notice", r->state == RequestState::kExpired ||
                              (r->state == RequestState::kPendingApproval && r->expires_at <= now));
  bool can_decide = pending && auth::CanDecide(v.roles, config_);
  d.set("can_decide", can_decide);
  d.set("helpdesk", pending && !can_decide && v.roles.general);
  d.set("csrf", v.session->csrf_token);
  AddRegistration(d, *r, v, can_decide);
  if (v.roles.approver || v.roles.viewer) AddDiagnostics(d, *r);
  TemplateData timeline = Timeline(*r);
  d.set("has_timeline", !timeline.is_empty_list());
  d.set("timeline", timeline);
  SendPage(v, http::status::ok, Titled("Device " + r->serial_number), PageTemplate::kRequest, d);
}

void WebHandler::AddDiagnostics(TemplateData& d, const StoredRequest& r) {
  Result<std::vector<DiagnosticsBundle>> bundles = diagnostics_.ListDiagnostics(r.id);
  if (!bundles.ok()) {
    d.set("diagnostics_unavailable", true);
    return;
  }
  TemplateData rows{TemplateData::type::list};
  for (const DiagnosticsBundle& b : *bundles) {
    TemplateData row;
    row.set("href", "/autopilot/" + r.id + "/diagnostics/" + std::to_string(b.number));
    row.set("file_name", b.file_name);
    row.set("size", b.size_bytes < 1024 ? std::to_string(b.size_bytes) + " bytes"
                                        : std::to_string((b.size_bytes + 1023) / 1024) + " KB");
    row.set("at", ShortTime(b.uploaded_at));
    row.set("at_iso", FormatTimestamp(b.uploaded_at));
    row.set("address", b.address);
    rows.push_back(row);
  }
  d.set("has_diagnostics", !rows.is_empty_list());
  d.set("diagnostics", rows);
}

// One bundle, for approvers and viewers only: it tells about the device and the network it is
// on. Each download is audited.
void WebHandler::DownloadDiagnostics(Visit& v, const std::string& id, const std::string& number) {
  if (!Require(v, v.roles.approver || v.roles.viewer, "approver or viewer",
               "ApproverSecurityGroup or ViewerSecurityGroup"))
    return;
  const bool numeric = !number.empty() && number.size() <= 6 &&
                       number.find_first_not_of("0123456789") == number.npos;
  Result<StoredRequest> r = store_.Get(id);
  Result<DiagnosticsBundle> bundle = Status::NotFound("no bundle");
  if (!r.ok()) bundle = r.status();
  if (r.ok() && numeric) bundle = diagnostics_.GetDiagnostics(r->id, std::stoll(number));
  if (!bundle.ok()) {
    if (bundle.status().code() != StatusCode::kNotFound) {
      return Message(v, http::status::service_unavailable, "Unavailable",
                     "The bundle cannot be read right now. Try again.");
    }
    return Message(v, http::status::not_found, "Not found",
                   "There is no such diagnostics bundle. It goes with its request when the "
                   "request is removed.",
                   "/autopilot/" + id, "Back");
  }
  Audit(v, "diagnostics_download", r->id, bundle->file_name);
  StringResponse res =
      Respond(v.req, http::status::ok, std::move(bundle->bytes), "application/zip");
  res.set(http::field::content_disposition, "attachment; filename=\"" + bundle->file_name + "\"");
  res.set(http::field::cache_control, "no-store");
  v.reply(std::move(res), v.route);
}

// The action the form asks for, with the registration it is about; an error for a value that
// is not an action.
std::optional<std::string> ReadAction(std::map<std::string, std::string>& form, Approval* a) {
  const std::string action = form["action"];
  if (action.empty()) return std::nullopt;  // a device not registered yet: import
  std::optional<ApprovalAction> parsed = ParseApprovalAction(action);
  if (!parsed) return "\"" + action + "\" is not something an approval can do.";
  a->action = *parsed;
  a->registration_id = Trim(form["registration_id"]);
  return std::nullopt;
}

bool WebHandler::IsConfiguredGroupTag(const std::string& tag) const {
  if (!config_.UseApprovalModeGroupTags) return tag == config_.GroupTag;
  std::vector<GroupTagChoice> choices = GroupTagChoices(config_);
  return std::any_of(choices.begin(), choices.end(),
                     [&](const GroupTagChoice& c) { return c.value == tag; });
}

std::optional<std::string> WebHandler::ReadApproverFields(std::map<std::string, std::string>& form,
                                                          const std::string& current_tag,
                                                          const std::string& proposed_tag,
                                                          Approval* a) const {
  if (std::optional<std::string> wrong = ReadAction(form, a)) return wrong;
  std::string tag = form["group_tag"];
  // A registered device may keep the tag it has, and the group tag function's tag is offered,
  // configured or not.
  bool known = (a->action != ApprovalAction::kImport && tag == current_tag) ||
               (!proposed_tag.empty() && tag == proposed_tag) || IsConfiguredGroupTag(tag);
  if (!known) return "The group tag \"" + tag + "\" is not one of the configured tags.";
  a->group_tag = tag;
  a->device_name = Trim(form["device_name"]);
  a->assigned_user = Trim(form["assigned_user"]);
  a->comment = Trim(form["comment"]);
  if (!ValidDeviceName(a->device_name)) {
    return "The device name may have up to 15 letters, digits and hyphens.";
  }
  if (!a->assigned_user.empty() && !ValidUpn(a->assigned_user)) {
    return "The assigned user must be a user principal name like user@contoso.com.";
  }
  return std::nullopt;
}

void WebHandler::Decide(Visit& v, const std::string& id, bool approve) {
  if (!CheckPost(v)) return;
  if (!auth::CanDecide(v.roles, config_)) {
    Audit(v, approve ? "approve_denied" : "reject_denied", id, "");
    return Message(v, http::status::forbidden, "Access denied",
                   config_.ApprovalMode
                       ? "Only the helpdesk (the approver group, ApproverSecurityGroup) approves "
                         "devices here. Call your helpdesk and quote the request id."
                       : "Approving needs membership of the general access group "
                         "(AuthorizationSecurityGroup) or the approver group.");
  }
  std::string who = v.session->upn.empty() ? v.session->oid : v.session->upn;
  // The approval service records the decision (or its refusal) in the audit trail.
  DecisionContext context{v.session->oid, v.req.client_address, v.roles.approver};
  Result<StoredRequest> outcome = Status::Internal("");
  if (approve) {
    Approval a;
    a.approver = who;
    Result<StoredRequest> current = store_.Get(id);
    const std::string proposed_tag = current.ok() ? current->proposed_group_tag : "";
    // Self-service: the group tag function's tag, else the configured one.
    a.group_tag = proposed_tag.empty() ? config_.GroupTag : proposed_tag;
    if (v.roles.approver) {
      const RegistrationCheck check =
          ParseRegistrationCheck(current.ok() ? current->registration : "");
      const std::string current_tag =
          check.found.size() == 1 ? check.found.front().device.group_tag : "";
      if (std::optional<std::string> wrong =
              ReadApproverFields(v.form, current_tag, proposed_tag, &a)) {
        return Message(v, http::status::bad_request, "Not approved", *wrong);
      }
    } else if (std::optional<std::string> wrong = ReadAction(v.form, &a)) {
      return Message(v, http::status::bad_request, "Not approved", *wrong);
    }
    if (a.assigned_user.empty() && config_.UseApprovalUserAsAssignedUser && !v.roles.approver) {
      a.assigned_user = v.session->upn;  // self-service: the approving user gets the device
    }
    outcome = approvals_.Approve(id, a, context);
  } else {
    std::string reason = Trim(v.form["reason"]);
    if (reason.empty()) reason = "Rejected by " + who;
    outcome = approvals_.Reject(id, reason, who, context);
  }
  if (!outcome.ok()) {
    const Status& s = outcome.status();
    if (s.code() == StatusCode::kNotFound) {
      return Message(v, http::status::not_found, "Request not found", "There is no such request.");
    }
    if (s.code() == StatusCode::kInvalidArgument) {
      return Message(v, http::status::bad_request, approve ? "Not approved" : "Not rejected",
                     "Nothing was changed: " + s.message() + ".", "/autopilot/" + id, "Back");
    }
    if (s.code() == StatusCode::kPermissionDenied) {
      return Message(v, http::status::forbidden, "Not allowed",
                     "Nothing was changed: " + s.message() + ".", "/autopilot/" + id, "Back");
    }
    if (s.code() == StatusCode::kFailedPrecondition && s.message().ends_with("has expired")) {
      return Message(v, http::status::conflict, "This request has expired",
                     "Nobody approved it within " + std::to_string(config_.Timeout) +
                         " minutes, so nothing was changed. Start the client on the device again "
                         "to send a new request.",
                     "/autopilot/" + id, "Back");
    }
    if (s.code() == StatusCode::kFailedPrecondition) {
      return Message(v, http::status::conflict, "Already decided",
                     "Nothing was changed: " + s.message() + ".", "/autopilot/" + id, "Back");
    }
    return Message(v, http::status::service_unavailable, "Not saved",
                   "The server could not save the decision right now. Try again.");
  }
  Redirect(v, "/autopilot/" + id, http::status::see_other);
}

void WebHandler::ApproveRequests(Visit& v) {
  if (!Require(v, v.roles.approver, "approver", "ApproverSecurityGroup")) return;
  std::string q = Trim(Param(v.req, "q"));
  RequestFilter filter;
  filter.state = RequestState::kPendingApproval;
  filter.limit = 500;
  Result<std::vector<StoredRequest>> list = store_.List(filter);
  if (!list.ok()) {
    return Message(v, http::status::service_unavailable, "Unavailable",
                   "The list cannot be read right now. Try again.");
  }
  std::vector<StoredRequest> rows = *list;
  std::sort(rows.begin(), rows.end(), [](const StoredRequest& a, const StoredRequest& b) {
    return a.created_at > b.created_at;  // newest first, by real time
  });
  TemplateData requests{TemplateData::type::list};
  size_t shown = 0;
  for (const StoredRequest& r : rows) {
    if (!q.empty() && r.id != q && !EqualsIgnoreCase(r.serial_number, q) &&
        r.serial_number.find(q) == std::string::npos) {
      continue;
    }
    TemplateData row = DeviceRow(r);
    row.set("verification", r.verification);
    const std::string registered =
        RegistrationSummary(ParseRegistrationCheck(r.registration), clock_.NowMs());
    if (!registered.empty()) row.set("registered", registered);
    row.set("created", ShortTime(r.created_at));
    row.set("created_iso", FormatTimestamp(r.created_at));
    requests.push_back(row);
    ++shown;
  }
  TemplateData d;
  if (!q.empty()) d.set("q", q);  // mustache shows a section for "" too
  d.set("has_requests", shown > 0);
  d.set("requests", requests);
  SendPage(v, http::status::ok, Titled("Pending requests"), PageTemplate::kApproveRequests, d);
}

}  // namespace apm::web
