// POST /api/v1/requests/{id}/diagnostics: a device's helpdesk bundle, kept with its request for
// approvers and viewers (docs/api.md#diagnostics). The request id is the device's capability,
// as for its status; a bundle with a file that holds any part of the request's hardware hash is
// refused whole, so no hash reaches the store through this route.
#include <algorithm>

#include <nlohmann/json.hpp>

#include "core/diagnostics_bundle.h"
#include "core/sha256.h"
#include "core/text.h"
#include "core/zip_reader.h"
#include "server/api_answers.h"
#include "server/api_handler.h"
#include "server/audit_trail.h"
#include "server/logging.h"

namespace apm {
namespace {

constexpr std::string_view kRoute = ApiHandler::kDiagnosticsRoute;

// How long after its end a request still takes its device's diagnostics: a failure on a
// Friday reaches the helpdesk on Monday.
constexpr int64_t kDiagnosticsAfterFinishMs = int64_t{3} * 24 * 3600 * 1000;

// The files ap puts in a bundle (diagnostics.cc): nothing else reaches the helpdesk.
bool DiagnosticsEntryName(std::string_view name) {
  return name == "summary.txt" || name == "checks.txt" || name == "ap.log" ||
         (name.starts_with("system/") && name.size() > 7);
}

std::string SizeText(size_t bytes) {
  return bytes < 1024 ? std::to_string(bytes) + " bytes"
                      : std::to_string((bytes + 1023) / 1024) + " KB";
}

}  // namespace

void ApiHandler::UploadDiagnostics(const InboundRequest& req, const std::string& id,
                                   const Reply& reply) {
  auto fail = [&](http::status s, std::string_view code, std::string_view msg,
                  const nlohmann::json& extra = nlohmann::json::object()) {
    reply(ErrorAnswer(req, s, code, msg, extra), kRoute);
  };
  if (std::optional<int64_t> wait = diagnostics_limiter_.Take(req.client_address)) {
    StringResponse res = ErrorAnswer(req, http::status::too_many_requests, "rate_limited",
                                     "too many diagnostics from this address; try again later");
    res.set(http::field::retry_after, std::to_string(*wait));
    return reply(std::move(res), kRoute);
  }
  const std::string& body = req.message.body();
  std::string_view content_type = req.message[http::field::content_type];
  if (!EqualsIgnoreCase(Trim(content_type.substr(0, content_type.find(';'))), "application/zip")) {
    return fail(http::status::unsupported_media_type, "unsupported_media_type",
                "send the bundle as application/zip");
  }
  const std::string name = QueryParam(req.query, "name").value_or("");
  if (!ValidDiagnosticsFileName(name)) {
    return fail(http::status::bad_request, "invalid_parameter",
                "name must be the bundle's file name: letters, digits, '-', '_' and '.', ending "
                "in .zip, at most 100 characters",
                {{"field", "name"}});
  }
  if (body.size() > kMaxDiagnosticsBytes) {
    return fail(http::status::payload_too_large, "too_large",
                "a bundle may have at most " + std::to_string(kMaxDiagnosticsBytes) + " bytes");
  }
  // The request first: only a device that has one gets its bundle read.
  Result<StoredRequest> r = Status::NotFound("no request");
  if (LooksLikeRequestId(id)) r = store_.GetWithHash(id);
  if (!r.ok()) {
    if (r.status().code() == StatusCode::kNotFound) {
      return fail(http::status::not_found, "not_found", "no request with this id");
    }
    return fail(http::status::service_unavailable, "unavailable",
                "the store is not available; try again");
  }
  const int64_t now = clock_.NowMs();
  if (r->finished_at != 0 && now - r->finished_at > kDiagnosticsAfterFinishMs) {
    return fail(http::status::gone, "request_finished",
                "this request ended more than three days ago; start the client again");
  }
  // Only a zip as ap writes it (entries stored, one after the other, nothing else): then the
  // scan for the hash below sees every byte the bundle holds.
  Result<std::vector<StoredZipEntry>> entries = ReadStoredZip(body);
  if (!entries.ok()) {
    return fail(http::status::bad_request, "not_a_zip",
                "the body is not a zip as ap writes it (" + entries.status().message() + ")");
  }
  for (const StoredZipEntry& e : *entries) {
    if (!DiagnosticsEntryName(e.name)) {
      return fail(http::status::bad_request, "not_a_zip",
                  "\"" + e.name + "\" is not a file ap puts in a bundle");
    }
  }
  AuditEvent event;
  event.at = now;
  event.actor_upn = "device";
  event.address = req.client_address;
  event.request_id = r->id;
  const HashSpotter hash(r->hardware_hash);
  const bool holds_hash = std::any_of(entries->begin(), entries->end(), [&](const auto& e) {
    return hash.Holds(e.name) || hash.Holds(e.bytes);
  });
  if (holds_hash) {
    event.action = "diagnostics_refused";
    event.detail = name + ": it holds part of the device's hardware hash";
    RecordAudit(audit_, event);
    return fail(http::status::unprocessable_entity, "holds_hardware_hash",
                "the bundle holds part of the device's hardware hash; it was not kept");
  }
  DiagnosticsBundle bundle;
  bundle.request_id = r->id;
  bundle.file_name = name;
  bundle.uploaded_at = now;
  bundle.address = req.client_address;
  const Sha256Digest digest = Sha256(body);
  bundle.sha256 = ToHex(digest.data(), digest.size());
  Result<DiagnosticsBundle> kept =
      diagnostics_.AddDiagnostics(bundle, body, kMaxDiagnosticsPerRequest);
  if (!kept.ok()) {
    switch (kept.status().code()) {
      case StatusCode::kNotFound:
        return fail(http::status::not_found, "not_found", "no request with this id");
      case StatusCode::kResourceExhausted:
        return fail(http::status::conflict, "too_many_diagnostics",
                    "this request already has " + std::to_string(kMaxDiagnosticsPerRequest) +
                        " diagnostics bundles; the helpdesk has them");
      default:
        LogError("diagnostics not kept", {{"request", r->id}, {"error", kept.status().message()}});
        return fail(http::status::service_unavailable, "unavailable",
                    "the bundle could not be stored; try again");
    }
  }
  event.action = "diagnostics_upload";
  event.detail = name + " (" + SizeText(body.size()) + ", #" + std::to_string(kept->number) + ")";
  RecordAudit(audit_, event);
  LogInfo("diagnostics kept",
          {{"request", r->id}, {"number", kept->number}, {"bytes", kept->size_bytes}});
  reply(JsonAnswer(req, http::status::created,
                   nlohmann::json{{"diagnostics",
                                   {{"number", kept->number},
                                    {"fileName", kept->file_name},
                                    {"sizeBytes", kept->size_bytes},
                                    {"sha256", kept->sha256}}}}),
        kRoute);
}

}  // namespace apm
