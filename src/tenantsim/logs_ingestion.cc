#include "tenantsim/logs_ingestion.h"

#include <zlib.h>

#include "core/text.h"
#include "server/json_text.h"

namespace apm::sim {
namespace {

using json = nlohmann::json;

StringResponse IngestionAnswer(const InboundRequest& req, http::status status,
                               const std::string& code, const std::string& message) {
  StringResponse res{status, req.message.version()};
  if (!code.empty()) {
    res.set(http::field::content_type, "application/json; charset=utf-8");
    res.body() = JsonText(json{{"error", {{"code", code}, {"message", message}}}});
  }
  res.prepare_payload();
  return res;
}

// Inflates a gzip body; nullopt when it is not gzip. Past `limit` it stops: the text returned
// is longer than the limit, and cut.
std::optional<std::string> Gunzip(const std::string& in, size_t limit) {
  z_stream z{};
  if (inflateInit2(&z, 15 + 16) != Z_OK) return std::nullopt;
  std::string out;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = uInt(in.size());
  int rc = Z_OK;
  char buf[64 * 1024];
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    out.append(buf, sizeof buf - z.avail_out);
    if (out.size() > limit) break;
  }
  inflateEnd(&z);
  if (out.size() > limit) return out;
  if (rc != Z_STREAM_END) return std::nullopt;
  return out;
}

}  // namespace

void LogsIngestion::Handle(const InboundRequest& req, const Reply& reply) {
  constexpr std::string_view kRoute = "/dataCollectionRules/{rule}/streams/{stream}";
  // /dataCollectionRules/{rule}/streams/{stream}
  std::string_view path = req.path;
  path.remove_prefix(std::string_view("/dataCollectionRules/").size());
  size_t slash = path.find('/');
  std::string rule(path.substr(0, slash));
  std::string_view rest = slash == std::string_view::npos ? "" : path.substr(slash);
  if (!rest.starts_with("/streams/") || rest.size() <= 9 || !rule.starts_with("dcr-")) {
    return reply(
        IngestionAnswer(req, http::status::not_found, "NotFound", "no such rule or stream"),
        kRoute);
  }
  std::string stream(rest.substr(9));
  if (req.message.method() != http::verb::post) {
    return reply(
        IngestionAnswer(req, http::status::method_not_allowed, "MethodNotAllowed", "POST only"),
        kRoute);
  }
  if (QueryParam(req.query, "api-version").value_or("") != "2023-01-01") {
    return reply(IngestionAnswer(req, http::status::bad_request, "InvalidApiVersion",
                                 "api-version 2023-01-01 is required"),
                 kRoute);
  }
  std::string auth(req.message[http::field::authorization]);
  if (!auth.starts_with("Bearer ") || !identity_.AuthenticateMonitor(auth.substr(7))) {
    return reply(IngestionAnswer(req, http::status::unauthorized, "InvalidToken",
                                 "a token for https://monitor.azure.com is required"),
                 kRoute);
  }
  {
    std::lock_guard lock(mu_);
    if (throttle_ > 0) {
      --throttle_;
      StringResponse res = IngestionAnswer(req, http::status::too_many_requests, "TooManyRequests",
                                           "the rule's request rate is exceeded");
      res.set(http::field::retry_after, std::to_string(retry_after_));
      return reply(std::move(res), kRoute);
    }
  }
  std::string body = req.message.body();
  bool too_large = body.size() > kMaxCallBytes;
  if (!too_large &&
      EqualsIgnoreCase(std::string(req.message[http::field::content_encoding]), "gzip")) {
    std::optional<std::string> plain = Gunzip(body, kMaxCallBytes);
    if (!plain) {
      return reply(IngestionAnswer(req, http::status::bad_request, "InvalidContentEncoding",
                                   "the body is not gzip"),
                   kRoute);
    }
    body = std::move(*plain);
  }
  too_large = too_large || body.size() > kMaxCallBytes;
  {
    std::lock_guard lock(mu_);
    if (too_large_ > 0) {
      --too_large_;
      too_large = true;
    }
  }
  if (too_large) {
    return reply(IngestionAnswer(req, http::status::payload_too_large, "ContentLengthLimitExceeded",
                                 "a call may carry at most 1 MB"),
                 kRoute);
  }
  json rows = json::parse(body, nullptr, false);
  if (!rows.is_array()) {
    return reply(IngestionAnswer(req, http::status::bad_request, "InvalidPayload",
                                 "the body must be a JSON array of rows"),
                 kRoute);
  }
  std::lock_guard lock(mu_);
  ++calls_;
  for (json& row : rows) {
    if (!row.is_object()) continue;
    row["_rule"] = rule;
    row["_stream"] = stream;
    rows_.push_back(std::move(row));
  }
  reply(IngestionAnswer(req, http::status::no_content, "", ""), kRoute);
}

json LogsIngestion::Received() {
  std::lock_guard lock(mu_);
  return {{"calls", calls_}, {"rows", rows_}};
}

Status LogsIngestion::SetFaults(const json& faults) {
  if (!faults.is_object()) return Status::InvalidArgument("send a JSON object");
  std::lock_guard lock(mu_);
  throttle_ = faults.value("throttle", 0);
  retry_after_ = faults.value("retryAfter", 1);
  too_large_ = faults.value("tooLarge", 0);
  return Status::Ok();
}

}  // namespace apm::sim
