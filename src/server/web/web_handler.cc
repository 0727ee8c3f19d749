#include "server/web/web_handler.h"

#include <openssl/crypto.h>

#include <algorithm>

#include <boost/asio/post.hpp>
#include <nlohmann/json.hpp>

#include "core/text.h"
#include "server/http/form.h"
#include "server/http/responses.h"
#include "server/logging.h"

namespace apm::web {
namespace {

using json = nlohmann::json;

// "2026-11-27 08:21 UTC" from ms since the epoch.
std::string ShortTime(int64_t ms) {
  std::string iso = FormatTimestamp(ms);  // 2026-11-27T08:21:35.532Z
  return iso.size() >= 16 ? iso.substr(0, 10) + " " + iso.substr(11, 5) + " UTC" : iso;
}

// Midnight UTC of a YYYY-MM-DD date, in ms; nullopt for anything else.
std::optional<int64_t> DayStartMs(const std::string& date) {
  if (date.size() != 10 || date[4] != '-' || date[7] != '-') return std::nullopt;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (!std::isdigit(static_cast<unsigned char>(date[i]))) return std::nullopt;
  }
  std::chrono::year_month_day day{std::chrono::year(std::stoi(date.substr(0, 4))),
                                  std::chrono::month(unsigned(std::stoi(date.substr(5, 2)))),
                                  std::chrono::day(unsigned(std::stoi(date.substr(8, 2))))};
  if (!day.ok()) return std::nullopt;
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::sys_days(day).time_since_epoch())
      .count();
}

// "08:21:35" (UTC), for timelines within a page that shows the date.
std::string TimeOfDay(int64_t ms) {
  std::string iso = FormatTimestamp(ms);
  return iso.size() >= 19 ? iso.substr(11, 8) : iso;
}

std::string Age(int64_t ms) {
  int64_t minutes = ms / 60'000;
  if (minutes < 1) return "less than a minute";
  if (minutes < 60) return std::to_string(minutes) + " min";
  if (minutes < 48 * 60)
    return std::to_string(minutes / 60) + " h " + std::to_string(minutes % 60) + " min";
  return std::to_string(minutes / 1440) + " days";
}

// A sign-in not finished within this time is refused (and purged).
constexpr int64_t kSignInMaxAgeMs = 10 * 60'000;

// A local path to return to after sign-in; anything else (another site) becomes "/".
std::string LocalPath(const std::string& path) {
  if (path.empty() || path[0] != '/' || (path.size() > 1 && (path[1] == '/' || path[1] == '\\'))) {
    return "/";
  }
  for (unsigned char c : path) {
    if (c < 0x21 || c == 0x7f) return "/";
  }
  return path;
}

std::string Origin(const std::string& url) {
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) return "";
  size_t path = url.find('/', scheme + 3);
  return path == std::string::npos ? url : url.substr(0, path);
}

// A query parameter, percent-decoded ("" when absent or badly encoded).
std::string Param(const HttpRequest& req, std::string_view name) {
  std::optional<std::string> raw = QueryParam(req.query, name);
  if (!raw) return "";
  return UrlDecode(*raw).value_or("");  // '+' is a space there too
}

Frame Titled(std::string title) {
  Frame frame;
  frame.title = std::move(title);
  return frame;
}

bool SameToken(const std::string& a, const std::string& b) {
  return !a.empty() && a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// A field of a CSV line (RFC 4180), with formula characters defused for spreadsheets.
std::string CsvField(std::string text) {
  if (!text.empty() && std::string_view("=+-@\t\r").find(text[0]) != std::string_view::npos) {
    text = "'" + text;
  }
  std::string out = "\"";
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// Turns the last field's trailing comma into the line end.
void EndCsvLine(std::string* text) {
  text->back() = '\r';
  *text += "\n";
}

// A table row's device columns.
TemplateData DeviceRow(const StoredRequest& r) {
  TemplateData row;
  row.set("id", r.id);
  row.set("serial", r.serial_number);
  row.set("manufacturer", r.manufacturer);
  row.set("model", r.model);
  return row;
}

std::string StateLabel(RequestState state) {
  std::string label(RequestStateName(state));
  for (char& c : label) c = c == '_' ? ' ' : c;
  return label;
}

std::string VerificationText(const std::string& verification) {
  if (verification == "verified")
    return "verified: the hash confirms serial, manufacturer and model";
  if (verification == "mismatch") return "MISMATCH: the hash contradicts what the device reported";
  if (verification == "unverifiable") return "not verifiable: the hash could not be decoded";
  return "not checked";
}

// The device name Autopilot accepts: up to 15 letters, digits and hyphens (or %SERIAL%-style
// macros, which Intune expands).
bool ValidDeviceName(const std::string& name) {
  if (name.size() > 15) return false;
  for (unsigned char c : name) {
    if (!std::isalnum(c) && c != '-' && c != '%') return false;
  }
  return true;
}

bool ValidUpn(const std::string& upn) {
  if (!IsValidUtf8(upn)) return false;
  size_t at = upn.find('@');
  if (upn.size() > 256 || at == std::string::npos || at == 0 || at + 1 == upn.size()) return false;
  for (unsigned char c : upn) {
    if (c <= ' ' || c == 0x7f || c == '<' || c == '>' || c == '"') return false;
  }
  return true;
}

}  // namespace

struct WebHandler::Visit {
  HttpRequest req;
  Reply reply;
  std::string route;
  std::optional<Session> session;
  auth::Roles roles;
  std::map<std::string, std::string> form;
};

WebHandler::WebHandler(const Config& config, RequestStore& store, SessionStore& sessions,
                       ApprovalService& approvals, auth::OidcClient* oidc, GraphApi* graph,
                       const Clock& clock, boost::asio::thread_pool& blocking)
    : config_(config),
      store_(store),
      session_store_(sessions),
      approvals_(approvals),
      oidc_(oidc),
      graph_(graph),
      clock_(clock),
      blocking_(blocking),
      sessions_(sessions, clock, config),
      sign_in_limiter_(clock, /*tokens_per_minute=*/30, /*burst=*/30),
      callback_limiter_(clock, /*tokens_per_minute=*/120, /*burst=*/120) {}

bool WebHandler::Owns(std::string_view path) {
  return path == "/signin" || path == "/signin-oidc" || path == "/signout" ||
         path == "/signout-callback-oidc" || path.starts_with("/autopilot/") ||
         path.starts_with("/static/");
}

void WebHandler::Handle(HttpRequest request, Reply reply) {
  // Pages touch the store and the identity provider: never on an I/O thread.
  boost::asio::post(blocking_, [this, request = std::move(request), reply]() mutable {
    Visit v{std::move(request), reply, "", std::nullopt, {}, {}};
    try {
      Serve(v);
    } catch (const std::exception& e) {
      LogError("page failed", {{"error", e.what()}, {"path", v.req.path}});
      reply(Respond(v.req, http::status::internal_server_error, "internal error\n", "text/plain"),
            v.route.empty() ? "(page)" : v.route);
    }
  });
}

void WebHandler::Serve(Visit& v) {
  const http::verb method = v.req.message.method();
  const bool get = method == http::verb::get || method == http::verb::head;
  const bool post = method == http::verb::post;
  std::vector<std::string_view> seg = Segments(v.req.path);

  if (seg.size() == 2 && seg[0] == "static") {
    v.route = "/static/{name}";
    std::string body, type;
    if (!get || !StaticAsset(seg[1], &body, &type)) {
      return v.reply(Respond(v.req, http::status::not_found, "not found\n", "text/plain"), v.route);
    }
    StringResponse res = Respond(v.req, http::status::ok, std::move(body), type);
    res.set(http::field::cache_control, "public, max-age=3600");
    return v.reply(std::move(res), v.route);
  }
  v.route = "(page)";
  if (!oidc_) {
    return Message(v, http::status::not_found, "Approval pages are off",
                   "This server has no sign-in configured, so devices are approved by an "
                   "administrator on the server (apm-server request approve).");
  }
  v.session = sessions_.Find(v.req);
  if (v.session) v.roles = auth::RolesFor(v.session->groups, config_);
  if (post) {
    std::optional<std::map<std::string, std::string>> form = ParseForm(v.req.message.body());
    if (form) v.form = std::move(*form);
  }
  auto wrong_method = [&](const char* allow) {
    StringResponse res =
        Respond(v.req, http::status::method_not_allowed, "method not allowed\n", "text/plain");
    res.set(http::field::allow, allow);
    v.reply(std::move(res), v.route);
  };

  if (v.req.path == "/signin" || v.req.path == "/signin-oidc") {
    // Each costs a row in the store (and perhaps a call to the provider): bounded per address.
    // The callback has its own, larger bucket: starts that one person repeats behind an office
    // NAT must not stop the sign-ins of everyone else there from completing.
    RateLimiter& limiter = v.req.path == "/signin" ? sign_in_limiter_ : callback_limiter_;
    if (std::optional<int64_t> wait = limiter.Take(v.req.client_address)) {
      v.route = v.req.path;
      StringResponse res =
          Respond(v.req, http::status::too_many_requests,
                  "Too many sign-in attempts; try again in a minute.\n", "text/plain");
      res.set(http::field::retry_after, std::to_string(*wait));
      return v.reply(std::move(res), v.route);
    }
  }
  if (v.req.path == "/signin") {
    v.route = "/signin";
    return get ? SignIn(v) : wrong_method("GET");
  }
  if (v.req.path == "/signin-oidc") {
    v.route = "/signin-oidc";
    return get ? SignInCallback(v) : wrong_method("GET");
  }
  if (v.req.path == "/signout") {
    v.route = "/signout";
    return post ? SignOut(v) : wrong_method("POST");
  }
  if (v.req.path == "/signout-callback-oidc") {
    v.route = "/signout-callback-oidc";
    if (!get) return wrong_method("GET");
    return SendPage(v, http::status::ok, Titled("Signed out"), PageTemplate::kSignedOut,
                    TemplateData());
  }
  if (seg.size() == 2 && seg[0] == "autopilot") {
    std::string_view page = seg[1];
    if (page == "approve-requests") {
      v.route = "/autopilot/approve-requests";
      return get ? ApproveRequests(v) : wrong_method("GET");
    }
    if (page == "view-imports" || page == "view-imports.csv") {
      v.route = "/autopilot/view-imports";
      return get ? ViewImports(v, page.ends_with(".csv")) : wrong_method("GET");
    }
    if (page == "audit" || page == "audit.csv") {
      v.route = "/autopilot/audit";
      return get ? AuditPage(v, page.ends_with(".csv")) : wrong_method("GET");
    }
    v.route = "/autopilot/{id}";
    return get ? RequestPage(v, std::string(page)) : wrong_method("GET");
  }
  if (seg.size() == 3 && seg[0] == "autopilot") {
    if (seg[2] == "approve" || seg[2] == "reject") {
      v.route = "/autopilot/{id}/" + std::string(seg[2]);
      return post ? Decide(v, std::string(seg[1]), seg[2] == "approve") : wrong_method("POST");
    }
    if (seg[2] == "save-information" && get) {  // the QR link of ap.exe 1.x
      v.route = "/autopilot/{id}/save-information";
      return Redirect(v, "/autopilot/" + std::string(seg[1]));
    }
  }
  Message(v, http::status::not_found, "Not found", "There is no page at this address.", "/",
          "Home");
}

// --- sign-in --------------------------------------------------------------------------------

void WebHandler::SignIn(Visit& v) {
  std::string return_to = LocalPath(Param(v.req, "return"));
  Result<auth::LoginStart> start =
      oidc_->StartLogin(PublicBaseUrl(config_, v.req) + "/signin-oidc");
  if (!start.ok()) {
    LogWarn("sign-in unavailable", {{"error", start.status().message()}});
    return Message(v, http::status::service_unavailable, "Sign-in is unavailable",
                   "The sign-in service cannot be reached right now. Try again in a minute.");
  }
  PendingLogin login{start->state, start->nonce, start->code_verifier, return_to, clock_.NowMs()};
  if (Status s = session_store_.SavePendingLogin(login); !s.ok()) {
    return Message(v, http::status::service_unavailable, "Sign-in is unavailable",
                   "The server cannot store the sign-in right now. Try again in a minute.");
  }
  Redirect(v, start->url, http::status::found, {sessions_.LoginCookie(v.req, start->state)});
}

void WebHandler::SignInCallback(Visit& v) {
  auto refuse = [&](http::status status, const std::string& why, const std::string& shown) {
    LogWarn("sign-in refused", {{"reason", why}, {"address", v.req.client_address}});
    Audit(v, "sign_in_failed", "", why);
    Message(v, status, "Sign-in failed", shown, "/signin", "Try again");
  };
  std::string state = Param(v.req, "state");
  if (std::string error = Param(v.req, "error"); !error.empty()) {
    std::string description = Param(v.req, "error_description");
    if (!state.empty()) (void)session_store_.TakePendingLogin(state);
    return refuse(http::status::forbidden, "provider error " + error + ": " + description,
                  "The sign-in service said: " + error +
                      (description.empty() ? "" : " (" + description + ")") + ".");
  }
  std::string code = Param(v.req, "code");
  if (state.empty() || code.empty()) {
    return refuse(http::status::bad_request, "callback without code or state",
                  "The answer of the sign-in service is incomplete.");
  }
  // The state must be the one this browser started (its cookie), and used only once.
  if (!SameToken(CookieValue(v.req, sessions_.LoginCookieName(v.req)), state)) {
    return refuse(http::status::forbidden, "state does not match this browser's sign-in",
                  "This sign-in was not started in this browser. Start it again.");
  }
  Result<PendingLogin> login = session_store_.TakePendingLogin(state);
  if (!login.ok()) {
    return refuse(http::status::forbidden, "unknown or already used state",
                  "This sign-in answer was already used or has expired. Start it again.");
  }
  if (clock_.NowMs() - login->created_at > kSignInMaxAgeMs) {
    return refuse(http::status::forbidden, "sign-in started too long ago",
                  "This sign-in took too long. Start it again.");
  }
  Result<auth::SignedIn> signed_in = oidc_->FinishLogin(
      code, login->code_verifier, login->nonce, PublicBaseUrl(config_, v.req) + "/signin-oidc");
  if (!signed_in.ok()) {
    bool refused = signed_in.status().code() == StatusCode::kPermissionDenied;
    return refuse(refused ? http::status::forbidden : http::status::service_unavailable,
                  signed_in.status().message(),
                  refused
                      ? "Your sign-in could not be accepted (" + signed_in.status().message() + ")."
                      : "The sign-in service cannot be reached right now. Try again.");
  }
  const auth::IdentityClaims& who = signed_in->identity;
  Result<std::vector<std::string>> groups = GroupsOf(who);
  if (!groups.ok()) {
    return refuse(http::status::forbidden,
                  "groups of " + who.upn + ": " + groups.status().message(),
                  "Your group memberships could not be read, so your access cannot be decided. "
                  "Ask your administrator.");
  }
  if (v.session) sessions_.Destroy(v.session->id);  // one session per browser
  Result<Session> session = sessions_.Create(who, *groups);
  if (!session.ok()) {
    return Message(v, http::status::service_unavailable, "Sign-in is unavailable",
                   "The server cannot store your session right now. Try again in a minute.");
  }
  v.session = *session;
  auth::Roles roles = auth::RolesFor(*groups, config_);
  Audit(v, "sign_in", "",
        std::string("roles:") + (roles.general ? " general" : "") +
            (roles.approver ? " approver" : "") + (roles.viewer ? " viewer" : "") +
            (roles.any() ? "" : " none") + (who.groups_overage ? " (groups via Graph)" : ""));
  LogInfo("signed in", {{"user", who.upn}, {"oid", who.oid}, {"address", v.req.client_address}});
  Redirect(v, login->return_to, http::status::found,
           {sessions_.SessionCookie(v.req, session->id), sessions_.ExpiredLoginCookie(v.req)});
}

Result<std::vector<std::string>> WebHandler::GroupsOf(const auth::IdentityClaims& identity) {
  if (!identity.groups_overage) return identity.groups;
  // The token names too many groups to carry them; Graph has the full list.
  if (!graph_) {
    return Status::FailedPrecondition(
        "the token carries a group overage and no Graph access is configured (TenantId)");
  }
  return graph_->GetMemberObjects(identity.oid);
}

void WebHandler::SignOut(Visit& v) {
  if (!CheckPost(v)) return;
  sessions_.Destroy(v.session->id);
  Audit(v, "sign_out", "", "");
  Result<std::string> url =
      oidc_->LogoutUrl("", PublicBaseUrl(config_, v.req) + "/signout-callback-oidc");
  std::string target = url.ok() && !url->empty() ? *url : "/signout-callback-oidc";
  Redirect(v, target, http::status::see_other, {sessions_.ExpiredSessionCookie(v.req)});
}

// --- authorization --------------------------------------------------------------------------

bool WebHandler::Require(Visit& v, bool has_role, std::string_view role_name,
                         std::string_view setting) {
  if (!v.session) {
    const http::verb method = v.req.message.method();
    if (method == http::verb::get || method == http::verb::head) {
      std::string here = v.req.path + (v.req.query.empty() ? "" : "?" + v.req.query);
      Redirect(v, "/signin?return=" + FormEncode(here));
    } else {
      Message(v, http::status::unauthorized, "Sign in first",
              "Your session has ended. Sign in again and repeat the action.", "/signin", "Sign in");
    }
    return false;
  }
  if (!has_role) {
    Audit(v, "access_denied", "", v.req.path);
    Message(v, http::status::forbidden, "Access denied",
            "This page needs the " + std::string(role_name) +
                " role: membership of the group "
                "set as " +
                std::string(setting) + ". You are signed in as " + v.session->upn +
                ". Ask your administrator for access.");
    return false;
  }
  return true;
}

// A state-changing request: signed in, same-origin, with the session's CSRF token.
bool WebHandler::CheckPost(Visit& v) {
  std::string origin(v.req.message[http::field::origin]);
  if (!origin.empty() && origin != Origin(PublicBaseUrl(config_, v.req))) {
    Audit(v, "csrf_refused", "", "origin " + origin);
    Message(v, http::status::forbidden, "Request refused", "This form was sent from another site.");
    return false;
  }
  if (!v.session) {
    Message(v, http::status::unauthorized, "Sign in first",
            "Your session has ended. Sign in again and repeat the action.", "/signin", "Sign in");
    return false;
  }
  auto token = v.form.find("csrf");
  if (token == v.form.end() || !SameToken(token->second, v.session->csrf_token)) {
    Audit(v, "csrf_refused", "", "missing or wrong token");
    Message(v, http::status::forbidden, "Request refused",
            "This form is out of date or was not sent from this site. Reload the page and try "
            "again.");
    return false;
  }
  return true;
}

// --- pages ----------------------------------------------------------------------------------

void WebHandler::RequestPage(Visit& v, const std::string& id) {
  if (!Require(v, v.roles.general || v.roles.approver, "general access",
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
  d.set("etag", "\"v" + std::to_string(r->version) + "\"");
  d.set("terminal", IsTerminal(r->state) ? "true" : "false");
  d.set("state", std::string(RequestStateName(r->state)));
  d.set("state_label", StateLabel(r->state));
  d.set("step", r->step);
  if (r->error) {
    std::string code = r->error->code ? std::to_string(r->error->code) + " " : "";
    d.set("error",
          code + r->error->name + (r->error->message.empty() ? "" : ": " + r->error->message));
  }
  d.set("serial", r->serial_number);
  d.set("manufacturer", r->manufacturer);
  d.set("model", r->model);
  d.set("verification_text", VerificationText(r->verification));
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
  d.set("helpdesk", pending && !can_decide);
  d.set("csrf", v.session->csrf_token);
  if (can_decide && v.roles.approver) {
    TemplateData fields;
    TemplateData tags{TemplateData::type::list};
    bool first = true;
    for (const GroupTagChoice& c : GroupTagChoices(config_)) {
      if (!config_.UseApprovalModeGroupTags) break;
      TemplateData t;
      t.set("value", c.value);
      t.set("label", c.label);
      t.set("selected", first);
      first = false;
      tags.push_back(t);
    }
    if (!config_.UseApprovalModeGroupTags) {
      TemplateData t;
      t.set("value", config_.GroupTag);
      t.set("label", config_.GroupTag);
      t.set("selected", true);
      tags.push_back(t);
    }
    fields.set("tags", tags);
    d.set("approver_fields", fields);
  }
  // The timeline: every state and step, with who decided (from the audit trail).
  std::vector<std::pair<int64_t, std::string>> lines;
  if (Result<std::vector<RequestStep>> steps = store_.Steps(r->id); steps.ok()) {
    for (const RequestStep& s : *steps)
      lines.emplace_back(s.at, StateLabel(s.state) + ": " + s.step);
  }
  AuditFilter filter;
  filter.request_id = r->id;
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
  d.set("has_timeline", !lines.empty());
  d.set("timeline", timeline);
  SendPage(v, http::status::ok, Titled("Device " + r->serial_number), PageTemplate::kRequest, d);
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
    a.group_tag = config_.GroupTag;
    if (v.roles.approver) {
      std::string tag = v.form["group_tag"];
      bool known = false;
      if (config_.UseApprovalModeGroupTags) {
        for (const GroupTagChoice& c : GroupTagChoices(config_)) known |= c.value == tag;
      } else {
        known = tag == config_.GroupTag;
      }
      if (!known) {
        return Message(v, http::status::bad_request, "Not approved",
                       "The group tag \"" + tag + "\" is not one of the configured tags.");
      }
      a.group_tag = tag;
      a.device_name = Trim(v.form["device_name"]);
      a.assigned_user = Trim(v.form["assigned_user"]);
      a.comment = Trim(v.form["comment"]);
      if (!ValidDeviceName(a.device_name)) {
        return Message(v, http::status::bad_request, "Not approved",
                       "The device name may have up to 15 letters, digits and hyphens.");
      }
      if (!a.assigned_user.empty() && !ValidUpn(a.assigned_user)) {
        return Message(v, http::status::bad_request, "Not approved",
                       "The assigned user must be a user principal name like user@contoso.com.");
      }
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
                     "The device is not allowed: " + s.message(), "/autopilot/" + id, "Back");
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
    std::string outcome = r.error ? (r.error->code ? std::to_string(r.error->code) + " " : "") +
                                        r.error->name +
                                        (r.error->message.empty() ? "" : ": " + r.error->message)
                                  : (r.state == RequestState::kCompleted ? "done" : "");
    running |= !IsTerminal(r.state);
    std::string steps_text;
    if (Result<std::vector<RequestStep>> steps = store_.Steps(r.id); steps.ok()) {
      for (const RequestStep& s : *steps) {
        steps_text += (steps_text.empty() ? "" : " · ") + TimeOfDay(s.at) + " " +
                      (s.step.empty() ? StateLabel(s.state) : s.step);
      }
    }
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
    TemplateData row = DeviceRow(r);
    row.set("group_tag", job->approval.group_tag);
    row.set("approver", job->approval.approver);
    row.set("comment", job->approval.comment);
    row.set("state", StateLabel(r.state));
    row.set("outcome", outcome);
    row.set("timeline", steps_text);
    row.set("finished", r.finished_at ? ShortTime(r.finished_at) : std::string("running"));
    row.set("approved", ShortTime(job->approved_at));
    row.set("approved_iso", FormatTimestamp(job->approved_at));
    jobs.push_back(row);
    ++job_rows;
  }
  if (csv) {
    StringResponse res =
        Respond(v.req, http::status::ok, std::move(text), "text/csv; charset=utf-8");
    res.set(http::field::content_disposition, "attachment; filename=\"autopilot-imports.csv\"");
    return v.reply(std::move(res), v.route);
  }
  TemplateData states{TemplateData::type::list};
  for (RequestState s : kAllRequestStates) {
    TemplateData option;
    option.set("value", std::string(RequestStateName(s)));
    option.set("selected", state_filter == RequestStateName(s));
    states.push_back(option);
  }
  TemplateData d;
  d.set("states", states);
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

// --- answers --------------------------------------------------------------------------------

void WebHandler::Message(Visit& v, http::status status, std::string heading, std::string text,
                         std::string link_href, std::string link_label) {
  TemplateData d;
  d.set("heading", heading);
  d.set("text", text);
  if (!link_href.empty()) {
    TemplateData link;
    link.set("href", link_href);
    link.set("label", link_label);
    d.set("link", link);
  }
  SendPage(v, status, Titled(heading), PageTemplate::kMessage, d);
}

void WebHandler::SendPage(Visit& v, http::status status, Frame frame, PageTemplate page,
                          const TemplateData& data) {
  if (v.session) {
    frame.user = v.session->upn.empty() ? v.session->name : v.session->upn;
    frame.csrf = v.session->csrf_token;
    frame.approver = v.roles.approver;
    frame.viewer = v.roles.viewer;
  }
  StringResponse res =
      Respond(v.req, status, RenderPage(frame, page, data), "text/html; charset=utf-8");
  std::string idp = oidc_ ? Origin(oidc_->settings().authority) : "";
  res.set("Content-Security-Policy",
          "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
          "connect-src 'self'; form-action 'self'" +
              (idp.empty() ? std::string() : " " + idp) +
              "; frame-ancestors 'none'; base-uri 'none'");
  res.set("Referrer-Policy", "same-origin");
  res.set("X-Frame-Options", "DENY");
  v.reply(std::move(res), v.route);
}

void WebHandler::Redirect(Visit& v, const std::string& location, http::status status,
                          std::vector<std::string> cookies) {
  StringResponse res = Respond(v.req, status, "", "text/plain");
  res.set(http::field::location, location);
  for (const std::string& c : cookies) res.insert(http::field::set_cookie, c);
  v.reply(std::move(res), v.route);
}

void WebHandler::Audit(const Visit& v, std::string action, std::string request_id,
                       std::string detail) {
  AuditEvent e;
  e.at = clock_.NowMs();
  if (v.session) {
    e.actor_oid = v.session->oid;
    e.actor_upn = v.session->upn;
  }
  e.address = v.req.client_address;
  e.action = std::move(action);
  e.request_id = std::move(request_id);
  e.detail = TruncateUtf8(detail, 300);  // some of it comes from anonymous visitors
  if (Status s = session_store_.AppendAudit(e); !s.ok()) {
    LogError("audit event lost", {{"action", e.action}, {"error", s.message()}});
  }
}

}  // namespace apm::web
