#include "server/api_handler.h"

#include "server/api_answers.h"

#include "server/http/request_checks.h"
#include "server/http/responses.h"
#include "server/http/route_table.h"
#include "server/status_json.h"
#include "server/web/home_page.h"

#include <boost/asio/post.hpp>
#include <boost/beast/core/file.hpp>

#include <nlohmann/json.hpp>

#include "core/text.h"
#include "server/json_text.h"
#include "server/json_writer.h"
#include "server/logging.h"
#include "server/qr.h"

namespace apm {
namespace {

using json = nlohmann::json;

constexpr std::string_view kRouteSubmit = "/api/v1/requests";
constexpr std::string_view kRouteStatus = "/api/v1/requests/{id}";
constexpr std::string_view kRouteCompatSave = "/api-autopilot/{id}/save-information";
constexpr std::string_view kRouteCompatResult = "/api-autopilot/{id}/result";

StringResponse MethodNotAllowed(const InboundRequest& req, std::string_view allow) {
  StringResponse res =
      ErrorAnswer(req, http::status::method_not_allowed, "method_not_allowed",
                  std::string(req.message.method_string()) + " is not allowed here");
  res.set(http::field::allow, allow);
  return res;
}

// A body field: absent and null read as empty; any other non-string is an error naming it.
bool ReadString(const json& body, const char* field, std::string* out, std::string* error) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return true;
  if (!it->is_string()) {
    *error = field;
    return false;
  }
  *out = it->get<std::string>();
  return true;
}

// Runs `work` on a pool thread; an exception costs one request (500), not the process.
template <class F>
void Guarded(const Reply& reply, std::string_view route, F&& work) {
  try {
    work();
  } catch (const std::exception& e) {
    LogError("handler failed", {{"error", e.what()}, {"route", route}});
    reply(
        Respond(11, http::status::internal_server_error,
                R"({"error":{"code":"internal","message":"internal error"}})", "application/json"),
        route);
  }
}

}  // namespace

ApiHandler::ApiHandler(const Config& config, RequestStore& store, DiagnosticsStore& diagnostics,
                       SessionStore& audit, IntakeService& intake, ChangeWatcher& watcher,
                       apm::Metrics& metrics, boost::asio::thread_pool& blocking,
                       const Clock& clock, ServedClient windows_client)
    : config_(config),
      windows_client_(std::move(windows_client)),
      clock_(clock),
      store_(store),
      diagnostics_(diagnostics),
      audit_(audit),
      intake_(intake),
      watcher_(watcher),
      metrics_(metrics),
      blocking_(blocking),
      diagnostics_limiter_(clock, /*tokens_per_minute=*/6, /*burst=*/10) {}

void ApiHandler::OnShutdown() {
  watcher_.Shutdown();
}

std::string ApiHandler::BaseUrl(const InboundRequest& req) const {
  return PublicBaseUrl(config_, req);
}

const RouteTable<ApiHandler::Target>& ApiHandler::Routes() {
  using Params = std::vector<std::string>;
  // Captureless lambdas: the table is static, the handler is the first argument.
  static const RouteTable<Target> kRoutes({
      {"/",
       "GET, HEAD",
       {[](ApiHandler& h, const InboundRequest& req, const Params&, const Reply& reply) {
         h.Home(req, reply);
       }}},
      {"/healthz",
       "GET, HEAD",
       {[](ApiHandler&, const InboundRequest& req, const Params&, const Reply& reply) {
         reply(Respond(req, http::status::ok, "ok\n", "text/plain"), "/healthz");
       }}},
      {"/readyz",
       "GET, HEAD",
       {[](ApiHandler& h, const InboundRequest& req, const Params&, const Reply& reply) {
         h.Readyz(req, reply);
       }}},
      {"/metrics",
       "GET, HEAD",
       {[](ApiHandler& h, const InboundRequest& req, const Params&, const Reply& reply) {
         h.ServeMetrics(req, reply);
       }}},
      {"/ap.exe",
       "GET, HEAD",
       {[](ApiHandler& h, const InboundRequest& req, const Params&, const Reply& reply) {
         h.Download(req, h.windows_client_.path, true, reply);
       }}},
      {"/ap",
       "GET, HEAD",
       {[](ApiHandler& h, const InboundRequest& req, const Params&, const Reply& reply) {
         h.Download(req, h.config_.ClientPosixBinary, false, reply);
       }}},
      {kRouteSubmit,
       "POST",
       {[](ApiHandler& h, const InboundRequest& req, const Params&, const Reply& reply) {
          h.SubmitV1(req, reply);
        },
        /*on_pool=*/true}},
      {kRouteStatus,
       "GET",
       {[](ApiHandler& h, const InboundRequest& req, const Params& p, const Reply& reply) {
         h.GetStatusV1(req, p[0], reply);
       }}},
      {kDiagnosticsRoute,
       "POST",
       {[](ApiHandler& h, const InboundRequest& req, const Params& p, const Reply& reply) {
          h.UploadDiagnostics(req, p[0], reply);
        },
        /*on_pool=*/true}},
      // ap.exe 1.x in approval mode shows a QR code for this page.
      {"/Home/NoSelfService",
       "GET, HEAD",
       {[](ApiHandler& h, const InboundRequest& req, const Params&, const Reply& reply) {
         reply(h.Page(req, "Call your helpdesk",
                      "<h1>Call your helpdesk</h1><p>This device needs to be approved by your "
                      "helpdesk. Call them and quote the ID shown on the device's screen.</p>"),
               "/Home/NoSelfService");
       }}},
      {kRouteCompatSave,
       "POST",
       {[](ApiHandler& h, const InboundRequest& req, const Params& p, const Reply& reply) {
          h.CompatSave(req, p[0], reply);
        },
        /*on_pool=*/true}},
      {kRouteCompatResult,
       "GET",
       {[](ApiHandler& h, const InboundRequest& req, const Params& p, const Reply& reply) {
         h.CompatResult(req, p[0], reply);
       }}},
  });
  return kRoutes;
}

void ApiHandler::Handle(InboundRequest req, Reply reply) {
  auto method = req.message.method_string();
  RouteTable<Target>::Match m =
      Routes().Find(req.path, std::string_view(method.data(), method.size()));
  if (!m.route) {
    if (!m.label.empty()) return reply(MethodNotAllowed(req, m.allow), std::string(m.label));
    return reply(
        ErrorAnswer(req, http::status::not_found, "not_found", "no such resource: " + req.path),
        "(unmatched)");
  }
  const Target& target = m.route->target;
  if (!target.on_pool) return target.run(*this, req, m.params, reply);
  // Waits for a durable commit: on the pool, never on an I/O thread.
  boost::asio::post(blocking_, [this, &target, label = m.label, params = std::move(m.params),
                                req = std::move(req), reply] {
    Guarded(reply, label, [&] { target.run(*this, req, params, reply); });
  });
}

void ApiHandler::Readyz(const InboundRequest& req, const Reply& reply) {
  if (!store_.Ping().ok()) {
    return reply(
        Respond(req, http::status::service_unavailable, "store unavailable\n", "text/plain"),
        "/readyz");
  }
  reply(Respond(req, http::status::ok, "ready\n", "text/plain"), "/readyz");
}

// What a v1 submission asks for: an import (the default), a corporate identifier (ap -u, no
// hash), or removing the Intune record (ap -e); the error code and message when it cannot be.
static std::optional<std::pair<std::string, std::string>> ReadRequestedAction(
    const std::string& action, const Config& config, ApprovalAction* requested) {
  if (action.empty() || action == "import") return std::nullopt;
  if (action == "register_corporate_identifier") {
    *requested = ApprovalAction::kRegisterCorporateIdentifier;
    return std::nullopt;
  }
  if (action != "remove_intune_record") {
    return std::pair<std::string, std::string>(
        "invalid_field",
        "action must be \"import\", \"remove_intune_record\" or \"register_corporate_identifier\"");
  }
  if (!config.AllowDeletionInApprovalMode) {
    return std::pair<std::string, std::string>(
        "deletion_not_allowed",
        "this server does not remove Intune records (AllowDeletionInApprovalMode)");
  }
  *requested = ApprovalAction::kRemoveManagedDevice;
  return std::nullopt;
}

// A body sent as JSON, or without a Content-Type (some HTTP tools send none).
static bool IsJsonOrUntyped(const InboundRequest& req) {
  std::string_view content_type = req.message[http::field::content_type];
  std::string media_type = Trim(content_type.substr(0, content_type.find(';')));
  return content_type.empty() || EqualsIgnoreCase(media_type, "application/json");
}

void ApiHandler::SubmitV1(const InboundRequest& req, const Reply& reply) {
  auto fail = [&](http::status s, std::string_view code, std::string_view msg,
                  const json& extra = json::object()) {
    reply(ErrorAnswer(req, s, code, msg, extra), kRouteSubmit);
  };
  if (!IsJsonOrUntyped(req)) {
    return fail(http::status::unsupported_media_type, "unsupported_media_type",
                "send the request as application/json");
  }
  json body = json::parse(req.message.body(), nullptr, /*allow_exceptions=*/false);
  if (!body.is_object()) {
    return fail(http::status::bad_request, "malformed_json",
                body.is_discarded() ? "the request body is not valid JSON"
                                    : "the request body must be a JSON object");
  }
  DeviceSubmission s;
  std::string wrong, action;
  if (!ReadString(body, "action", &action, &wrong) ||
      !ReadString(body, "serialNumber", &s.serial_number, &wrong) ||
      !ReadString(body, "manufacturer", &s.manufacturer, &wrong) ||
      !ReadString(body, "model", &s.model, &wrong) ||
      !ReadString(body, "hardwareHash", &s.hardware_hash, &wrong) ||
      !ReadString(body, "productKey", &s.product_key, &wrong) ||
      !ReadString(body, "clientVersion", &s.client_version, &wrong)) {
    return fail(http::status::bad_request, "invalid_field", wrong + " must be a string",
                {{"field", wrong}});
  }
  ApprovalAction requested = ApprovalAction::kImport;
  if (std::optional<std::pair<std::string, std::string>> refused =
          ReadRequestedAction(action, config_, &requested)) {
    return fail(http::status::bad_request, refused->first, refused->second,
                refused->first == "invalid_field" ? json{{"field", "action"}} : json::object());
  }
  IntakeResult r = intake_.Submit(std::move(s), req.client_address, "v1", "", requested);
  using K = IntakeResult::Kind;
  switch (r.kind) {
    case K::kCreated:
    case K::kExisting: {
      std::string base = BaseUrl(req);
      Result<QrMatrix> qr = EncodeQr(ApprovalUrl(base, r.request));
      if (!qr.ok()) LogError("QR encoding failed", {{"error", qr.status().message()}});
      StringResponse res =
          Respond(req, r.kind == K::kCreated ? http::status::created : http::status::ok,
                  StatusJson(r.request, base, config_.ApprovalMode, qr.ok() ? &*qr : nullptr),
                  "application/json");
      res.set(http::field::location, "/api/v1/requests/" + r.request.id);
      res.set(http::field::etag, ETag(r.request));
      return reply(std::move(res), kRouteSubmit);
    }
    case K::kSerialBusy:
      return fail(http::status::conflict, "serial_has_open_request",
                  "this serial number already has an open request with another hardware hash; "
                  "ask your helpdesk to reject it, or wait until it expires");
    case K::kInvalid:
      return fail(http::status::bad_request, "invalid_field",
                  r.invalid.field + " " + r.invalid.message, {{"field", r.invalid.field}});
    case K::kRefused:
      return fail(http::status::forbidden, r.refusal_code, r.refusal_message);
    case K::kDecisionUnavailable: {
      StringResponse res = ErrorAnswer(req, http::status::service_unavailable,
                                       "validation_unavailable", r.refusal_message);
      res.set(http::field::retry_after, "60");
      return reply(std::move(res), kRouteSubmit);
    }
    case K::kRateLimited: {
      StringResponse res = ErrorAnswer(req, http::status::too_many_requests, "rate_limited",
                                       "too many submissions from this address; try again later");
      res.set(http::field::retry_after, std::to_string(r.retry_after_seconds));
      return reply(std::move(res), kRouteSubmit);
    }
    case K::kTooManyOpen: {
      StringResponse res = ErrorAnswer(
          req, http::status::too_many_requests, "too_many_open_requests",
          "this address already has " + std::to_string(config_.MaxOpenRequestsPerAddress) +
              " open requests; wait until some are approved or expire");
      res.set(http::field::retry_after, "60");
      return reply(std::move(res), kRouteSubmit);
    }
    case K::kIdTaken:  // v1 ids are ours; a collision of 128 random bits means a bug
    case K::kUnavailable:
      return fail(http::status::service_unavailable, "unavailable",
                  "the request could not be stored; try again");
  }
}

void ApiHandler::GetStatusV1(const InboundRequest& req, const std::string& id, const Reply& reply) {
  if (!LooksLikeRequestId(id)) {
    return reply(ErrorAnswer(req, http::status::not_found, "not_found", "no request with this id"),
                 kRouteStatus);
  }
  int64_t wait_seconds = 0;
  if (std::optional<std::string> w = QueryParam(req.query, "wait")) {
    if (w->empty() || w->find_first_not_of("0123456789") != std::string::npos) {
      return reply(ErrorAnswer(req, http::status::bad_request, "invalid_parameter",
                               "wait must be a whole number of seconds (0 to " +
                                   std::to_string(config_.MaxWaitSeconds) + ")",
                               {{"field", "wait"}}),
                   kRouteStatus);
    }
    // Longer waits than the server allows are shortened, not refused.
    wait_seconds = w->size() > 6 ? config_.MaxWaitSeconds
                                 : std::min<int64_t>(std::stoll(*w), config_.MaxWaitSeconds);
  }
  Result<StoredRequest> r = store_.Get(id);
  if (!r.ok()) {
    if (r.status().code() == StatusCode::kNotFound) {
      return reply(
          ErrorAnswer(req, http::status::not_found, "not_found", "no request with this id"),
          kRouteStatus);
    }
    return reply(ErrorAnswer(req, http::status::service_unavailable, "unavailable",
                             "the store is not available; try again"),
                 kRouteStatus);
  }
  std::string if_none_match(req.message[http::field::if_none_match]);
  std::string base = BaseUrl(req);
  bool approval_mode = config_.ApprovalMode;
  // The answer for the request as it is now: 304 if the client already has this version.
  // Captures only values: a long-poll answers after Handle() has returned.
  unsigned version = req.message.version();
  auto answer = [version, if_none_match, base, approval_mode](const StoredRequest& now,
                                                              const Reply& reply) {
    std::string etag = ETag(now);
    if (IfNoneMatchMatches(if_none_match, etag)) {
      StringResponse res{http::status::not_modified, version};
      res.set(http::field::etag, etag);
      res.set(http::field::cache_control, "no-store");
      return reply(std::move(res), kRouteStatus);
    }
    StringResponse res = Respond(version, http::status::ok, StatusJson(now, base, approval_mode),
                                 "application/json");
    res.set(http::field::etag, etag);
    reply(std::move(res), kRouteStatus);
  };
  // Long-poll only while there is something to wait for: the client's version is current.
  bool client_is_current = if_none_match.empty() || IfNoneMatchMatches(if_none_match, ETag(*r));
  if (wait_seconds == 0 || IsTerminal(r->state) || !client_is_current) return answer(*r, reply);

  StoredRequest snapshot = *r;
  std::function<void()> withdraw =
      watcher_.Wait(snapshot.id, snapshot.version, std::chrono::seconds(wait_seconds), req.executor,
                    [this, snapshot, answer, reply](bool) {
                      // Read again even on timeout: a change the watcher missed still shows.
                      Result<StoredRequest> now = store_.Get(snapshot.id);
                      answer(now.ok() ? *now : snapshot, reply);
                    });
  // A client that closes an abandoned poll frees its waiter now, not at the timeout.
  if (req.peer_gone) req.peer_gone->OnGone(std::move(withdraw));
}

void ApiHandler::CompatSave(const InboundRequest& req, const std::string& id, const Reply& reply) {
  // The original answers 400 with a JSON string body, which ap.exe 1.x shows as is.
  auto fail = [&](http::status s, std::string_view text) {
    reply(Respond(req, s, JsonText(json(text)), "application/json"), kRouteCompatSave);
  };
  if (!IsGuid(id)) return fail(http::status::bad_request, "Invalid import job id");
  json body = json::parse(req.message.body(), nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return fail(http::status::bad_request, "Invalid request body");
  }
  DeviceSubmission s;
  std::string action, wrong;
  if (!ReadString(body, "SerialNumber", &s.serial_number, &wrong) ||
      !ReadString(body, "Manufacturer", &s.manufacturer, &wrong) ||
      !ReadString(body, "Model", &s.model, &wrong) ||
      !ReadString(body, "HardwareHash", &s.hardware_hash, &wrong) ||
      !ReadString(body, "Action", &action, &wrong)) {
    return fail(http::status::bad_request, "Invalid " + wrong);
  }
  // ap.exe -e asks for the device's Intune record to be removed, decided by an approver.
  ApprovalAction requested = ApprovalAction::kImport;
  if (action == "DELETE") {
    if (!config_.AllowDeletionInApprovalMode) {
      return fail(http::status::bad_request, "DELETE requests not allowed");
    }
    requested = ApprovalAction::kRemoveManagedDevice;
  }
  // ap.exe -u uploads a corporate identifier: no hash.
  if (s.hardware_hash.empty() && requested == ApprovalAction::kImport) {
    requested = ApprovalAction::kRegisterCorporateIdentifier;
  }
  // BYPASS skips the validation and auto-approval functions (decision_hooks.h).
  if (!action.empty() && action != "IMPORT" && action != "BYPASS" && action != "DELETE") {
    return fail(http::status::bad_request, "Invalid Action");
  }
  IntakeResult r = intake_.Submit(std::move(s), req.client_address, "compat",
                                  CanonicalRequestId(id), requested, action == "BYPASS");
  using K = IntakeResult::Kind;
  switch (r.kind) {
    case K::kCreated:
    case K::kExisting:
      return reply(Respond(req, http::status::ok, "", "application/json"), kRouteCompatSave);
    case K::kIdTaken:
      return fail(http::status::bad_request, "Import job id already used");
    case K::kSerialBusy:
      return fail(http::status::bad_request, "Device already has an open request");
    case K::kInvalid: {
      // Field names as the old client sends them (PascalCase).
      std::string field = r.invalid.field;
      if (!field.empty()) field[0] = char(std::toupper(static_cast<unsigned char>(field[0])));
      return fail(http::status::bad_request, "Invalid " + field + ": " + r.invalid.message);
    }
    case K::kRefused:
      if (r.refusal_code == "manufacturer_not_allowed") {
        return fail(http::status::bad_request, "Manufacturer not allowed");
      }
      if (r.refusal_code == "model_not_allowed") {
        return fail(http::status::bad_request, "Model not allowed");
      }
      // The validation function's refusal, with its reason when it gave one.
      return fail(http::status::bad_request, r.refusal_code == "device_not_allowed"
                                                 ? r.refusal_message
                                                 : "Device not allowed");
    case K::kDecisionUnavailable:
      return fail(http::status::service_unavailable, "Validation function unavailable");
    case K::kRateLimited:
    case K::kTooManyOpen: {
      StringResponse res = Respond(req, http::status::too_many_requests,
                                   JsonText(json("Too many requests")), "application/json");
      res.set(http::field::retry_after,
              std::to_string(std::max<int64_t>(r.retry_after_seconds, 1)));
      return reply(std::move(res), kRouteCompatSave);
    }
    case K::kUnavailable:
      return fail(http::status::service_unavailable, "Service unavailable");
  }
}

void ApiHandler::CompatResult(const InboundRequest& req, const std::string& id,
                              const Reply& reply) {
  auto send = [&](http::status s, std::string_view text) {
    reply(Respond(req, s, text.empty() ? std::string() : JsonText(json(text)), "application/json"),
          kRouteCompatResult);
  };
  if (!LooksLikeRequestId(id)) return send(http::status::not_found, "");
  Result<StoredRequest> r = store_.Get(CanonicalRequestId(id));
  if (!r.ok()) {
    if (r.status().code() == StatusCode::kNotFound) return send(http::status::not_found, "");
    return send(http::status::service_unavailable, "");
  }
  // The original's mapping (see docs/api.md): ap.exe 1.x keys its messages off these codes.
  switch (r->state) {
    case RequestState::kPendingApproval:
      return send(http::status::created, config_.ApprovalMode ? "ApprovalMode" : "");
    case RequestState::kApproved:
    case RequestState::kRemovingRegistration:
    case RequestState::kImporting:
    case RequestState::kWaitingForSync:
    case RequestState::kAddingToGroup:
    case RequestState::kWaitingForProfile:
      return send(http::status::accepted, "");
    case RequestState::kCompleted: {
      StringResponse res{http::status::no_content, req.message.version()};
      res.set(http::field::cache_control, "no-store");
      return reply(std::move(res), kRouteCompatResult);
    }
    case RequestState::kFailed:
      if (r->error && (r->error->code == 806 || r->error->code == 808)) {
        return send(http::status::conflict, std::to_string(r->error->code) + ": " + r->error->name);
      }
      return send(http::status::gone, "");
    case RequestState::kRejected:
    case RequestState::kExpired:
    case RequestState::kNotAllowed:
      return send(http::status::gone, "");
  }
}

StringResponse ApiHandler::Page(const InboundRequest& req, std::string_view title,
                                std::string_view body_html, std::string_view img_src) {
  std::string html =
      "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<title>" +
      HtmlEscape(title) +
      " - Autopilot Manager</title>"
      "<style>body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;"
      "padding:0 1rem;line-height:1.5;color:#1b1b1b}code,pre{background:#f0f3f7;padding:.2rem "
      ".4rem;border-radius:4px}pre{padding:1rem;overflow-x:auto}.logo{max-height:4rem;"
      "max-width:100%}.lines{white-space:pre-line}</style></head><body>" +
      std::string(body_html) + "</body></html>\n";
  StringResponse res = Respond(req, http::status::ok, std::move(html), "text/html; charset=utf-8");
  std::string images = img_src.empty() ? "" : "img-src " + std::string(img_src) + "; ";
  res.set("Content-Security-Policy", "default-src 'none'; " + images +
                                         "style-src 'unsafe-inline'; frame-ancestors 'none'; "
                                         "base-uri 'none'");
  res.set("X-Frame-Options", "DENY");
  res.set("Referrer-Policy", "same-origin");
  return res;
}

void ApiHandler::Home(const InboundRequest& req, const Reply& reply) {
  web::HomePageBody body = web::RenderHomePage(config_, BaseUrl(req), windows_client_.sha256,
                                               windows_client_.signed_here);
  reply(Page(req, "Register a device", body.html, body.img_src), "/");
}

void ApiHandler::Download(const InboundRequest& req, const std::string& path, bool windows,
                          const Reply& reply) {
  std::string route = windows ? "/ap.exe" : "/ap";
  const char* setting = windows ? "ClientWindowsBinary" : "ClientPosixBinary";
  const std::string& configured = windows ? config_.ClientWindowsBinary : config_.ClientPosixBinary;
  boost::beast::error_code ec;
  http::file_body::value_type file;
  if (!path.empty()) file.open(path.c_str(), boost::beast::file_mode::scan, ec);
  if (path.empty() || ec) {
    return reply(Respond(req, http::status::not_found,
                         std::string("The client is not available on this server (") + setting +
                             " is " + (configured.empty() ? "not set" : "not readable") + ").\n",
                         "text/plain"),
                 route);
  }
  const char* type =
      windows ? "application/vnd.microsoft.portable-executable" : "application/octet-stream";
  std::string disposition =
      windows ? "attachment; filename=\"ap.exe\"" : "attachment; filename=\"ap\"";
  // Built here, not by Respond (a file body), so the safety headers are set here too.
  auto headers = [&](auto& res) {
    res.set(http::field::content_type, type);
    res.set(http::field::content_disposition, disposition);
    res.set(http::field::cache_control, "no-cache");
    res.set("X-Content-Type-Options", "nosniff");
  };
  if (req.message.method() == http::verb::head) {
    StringResponse res{http::status::ok, req.message.version()};
    headers(res);
    res.content_length(file.size());
    return reply(std::move(res), route);
  }
  FileResponse res{http::status::ok, req.message.version()};
  headers(res);
  res.body() = std::move(file);
  res.prepare_payload();
  reply(std::move(res), route);
}

void ApiHandler::ServeMetrics(const InboundRequest& req, const Reply& reply) {
  Result<std::map<RequestState, int64_t>> counts = store_.CountByState();
  std::map<RequestState, int64_t> by_state;
  if (counts.ok()) by_state = *counts;
  std::string text = metrics_.Render(by_state);
  // Read here, not in a collector: the store's timing takes the metrics' lock Render holds.
  RequestFilter oldest{.state = RequestState::kPendingApproval, .limit = 1, .oldest_first = true};
  Result<std::vector<StoredRequest>> waiting = store_.List(oldest);
  if (waiting.ok()) {  // the store away: no value rather than a wrong one
    int64_t seconds =
        waiting->empty()
            ? 0
            : std::max<int64_t>(0, (clock_.NowMs() - waiting->front().created_at) / 1000);
    text +=
        "# HELP apm_oldest_pending_approval_seconds How long the oldest request waiting for "
        "approval has waited (0: none waits).\n"
        "# TYPE apm_oldest_pending_approval_seconds gauge\n"
        "apm_oldest_pending_approval_seconds " +
        std::to_string(seconds) + "\n";
  }
  reply(Respond(req, http::status::ok, std::move(text), "text/plain; version=0.0.4; charset=utf-8"),
        "/metrics");
}

}  // namespace apm
