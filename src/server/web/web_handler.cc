#include "server/web/web_handler.h"

#include <openssl/crypto.h>

#include <algorithm>

#include <boost/asio/post.hpp>
#include <nlohmann/json.hpp>

#include "core/text.h"
#include "server/http/form.h"
#include "server/http/responses.h"
#include "server/http/route_table.h"
#include "server/logging.h"
#include "server/web/page_text.h"
#include "server/web/visit.h"

namespace apm::web {
using json = nlohmann::json;

WebHandler::WebHandler(const Config& config, RequestStore& store, SessionStore& sessions,
                       DiagnosticsStore& diagnostics, ApprovalService& approvals,
                       IntakeService& intake, auth::OidcClient* oidc, GraphApi* graph,
                       ServiceStatus& status, const Clock& clock,
                       boost::asio::thread_pool& blocking)
    : config_(config),
      store_(store),
      session_store_(sessions),
      diagnostics_(diagnostics),
      approvals_(approvals),
      intake_(intake),
      oidc_(oidc),
      graph_(graph),
      status_(status),
      clock_(clock),
      blocking_(blocking),
      sessions_(sessions, clock, config),
      sign_in_limiter_(clock, /*tokens_per_minute=*/30, /*burst=*/30),
      callback_limiter_(clock, /*tokens_per_minute=*/120, /*burst=*/120) {}

bool WebHandler::Owns(std::string_view path) {
  // Everything under /autopilot/ is ours, so a mistyped page gets a page, not API JSON.
  if (path.starts_with("/autopilot/") || path.starts_with("/static/")) return true;
  return !Routes().Find(path, "GET").label.empty();  // the path is a route's, any method
}

void WebHandler::Handle(InboundRequest request, Reply reply) {
  // Pages touch the store and the identity provider: never on an I/O thread.
  boost::asio::post(blocking_, [this, request = std::move(request), reply]() mutable {
    Visit v{std::move(request), reply, "", std::nullopt, {}, {}, {}, {}};
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
  if (post) ReadForm(v);
  RouteTable<Target>::Match m = Routes().Find(v.req.path, get ? "GET" : post ? "POST" : "");
  if (!m.route && m.label.empty()) {
    return Message(v, http::status::not_found, "Not found", "There is no page at this address.",
                   "/", "Home");
  }
  v.route = m.route && !m.route->target.label.empty() ? m.route->target.label : m.label;
  if (!m.route) {
    StringResponse res =
        Respond(v.req, http::status::method_not_allowed, "method not allowed\n", "text/plain");
    res.set(http::field::allow, m.allow);
    return v.reply(std::move(res), v.route);
  }
  if (v.route == "/signin" || v.route == "/signin-oidc") {
    // Each costs a row in the store (and perhaps a call to the provider): bounded per address.
    // The callback has its own, larger bucket: starts that one person repeats behind an office
    // NAT must not stop the sign-ins of everyone else there from completing.
    RateLimiter& limiter = v.route == "/signin" ? sign_in_limiter_ : callback_limiter_;
    if (std::optional<int64_t> wait = limiter.Take(v.req.client_address)) {
      StringResponse res =
          Respond(v.req, http::status::too_many_requests,
                  "Too many sign-in attempts; try again in a minute.\n", "text/plain");
      res.set(http::field::retry_after, std::to_string(*wait));
      return v.reply(std::move(res), v.route);
    }
  }
  m.route->target.run(*this, v, m.params);
}

// A POST's fields into v.form (the first of a repeated name), a multipart form's files into
// v.files.
void WebHandler::ReadForm(Visit& v) {
  const std::string_view type = v.req.message[http::field::content_type];
  if (!IsMultipartForm(type)) {
    std::optional<std::map<std::string, std::string>> form = ParseForm(v.req.message.body());
    if (form) v.form = std::move(*form);
    return;
  }
  Result<std::vector<FormPart>> parts = ParseMultipartForm(type, v.req.message.body());
  if (!parts.ok()) {
    v.form_error = parts.status().message();
    return;
  }
  for (FormPart& p : *parts) {
    if (p.filename) {
      v.files.emplace(p.name, std::move(p));
    } else {
      v.form.emplace(p.name, std::string(p.content));
    }
  }
}

const RouteTable<WebHandler::Target>& WebHandler::Routes() {
  using P = std::vector<std::string>;
  using W = WebHandler;
  // GET routes also answer HEAD (Serve asks for "GET" for both). Captureless lambdas: the
  // table is static, the handler is the first argument.
  static const RouteTable<Target> kRoutes({
      {"/signin", "GET", {[](W& h, Visit& v, const P&) { h.SignIn(v); }}},
      {"/signin-oidc", "GET", {[](W& h, Visit& v, const P&) { h.SignInCallback(v); }}},
      {"/signout", "POST", {[](W& h, Visit& v, const P&) { h.SignOut(v); }}},
      {"/signout-callback-oidc", "GET", {[](W& h, Visit& v, const P&) {
         h.SendPage(v, http::status::ok, Titled("Signed out"), PageTemplate::kSignedOut,
                    TemplateData());
       }}},
      {"/autopilot/approve-requests", "GET", {[](W& h, Visit& v, const P&) {
         h.ApproveRequests(v);
       }}},
      {"/autopilot/view-imports", "GET", {[](W& h, Visit& v, const P&) {
         h.ViewImports(v, false);
       }}},
      {"/autopilot/view-imports.csv",
       "GET",
       {[](W& h, Visit& v, const P&) { h.ViewImports(v, true); }, "/autopilot/view-imports"}},
      {"/autopilot/audit", "GET", {[](W& h, Visit& v, const P&) { h.AuditPage(v, false); }}},
      {"/autopilot/audit.csv",
       "GET",
       {[](W& h, Visit& v, const P&) { h.AuditPage(v, true); }, "/autopilot/audit"}},
      {"/autopilot/status", "GET", {[](W& h, Visit& v, const P&) { h.StatusPage(v); }}},
      {"/autopilot/upload", "GET", {[](W& h, Visit& v, const P&) { h.UploadForm(v); }}},
      {"/autopilot/upload", "POST", {[](W& h, Visit& v, const P&) { h.Upload(v); }}},
      {"/autopilot/upload/approve", "POST", {[](W& h, Visit& v, const P&) {
         h.ApproveUploaded(v);
       }}},
      {"/autopilot/{id}", "GET", {[](W& h, Visit& v, const P& p) { h.RequestPage(v, p[0]); }}},
      {"/autopilot/{id}/diagnostics/{number}", "GET", {[](W& h, Visit& v, const P& p) {
         h.DownloadDiagnostics(v, p[0], p[1]);
       }}},
      {"/autopilot/{id}/approve", "POST", {[](W& h, Visit& v, const P& p) {
         h.Decide(v, p[0], true);
       }}},
      {"/autopilot/{id}/reject", "POST", {[](W& h, Visit& v, const P& p) {
         h.Decide(v, p[0], false);
       }}},
      // The QR link of ap.exe 1.x.
      {"/autopilot/{id}/save-information", "GET", {[](W& h, Visit& v, const P& p) {
         h.Redirect(v, "/autopilot/" + p[0]);
       }}},
  });
  return kRoutes;
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
