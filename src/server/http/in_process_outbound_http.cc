#include "server/http/in_process_outbound_http.h"

#include <algorithm>
#include <cctype>
#include <future>

namespace apm {

Result<OutboundResponse> InProcessOutboundHttp::Send(const OutboundRequest& request,
                                                     SendReport* report) {
  // scheme://host[:port]/path?query
  size_t scheme_end = request.url.find("://");
  if (scheme_end == std::string::npos) {
    if (report) *report = {.failure = TransportFailure::kNotSent, .sends = 0};
    return Status::InvalidArgument("not an absolute URL: " + request.url);
  }
  size_t path_start = request.url.find('/', scheme_end + 3);
  std::string host = request.url.substr(scheme_end + 3, path_start - scheme_end - 3);
  std::string target = path_start == std::string::npos ? "/" : request.url.substr(path_start);

  if (request.may_send && !request.may_send()) {
    if (report) *report = {.failure = TransportFailure::kNotSent, .sends = 0};
    return Status::Unavailable(request.method + " " + target + ": not sent");
  }
  InboundRequest req;
  req.message.method(http::string_to_verb(request.method));
  req.message.target(target);
  req.message.version(11);
  req.message.set(http::field::host, host);
  for (const auto& [name, value] : request.headers) req.message.set(name, value);
  req.message.body() = request.body;
  req.message.prepare_payload();
  size_t q = target.find('?');
  req.path = target.substr(0, q);
  req.query = q == std::string::npos ? "" : target.substr(q + 1);
  req.client_address = "127.0.0.1";
  req.secure = request.url.starts_with("https://");

  auto promise = std::make_shared<std::promise<AnyResponse>>();
  std::future<AnyResponse> answer = promise->get_future();
  handler_.Handle(std::move(req), [promise](AnyResponse response, std::string_view) {
    promise->set_value(std::move(response));
  });
  if (answer.wait_for(request.timeout) != std::future_status::ready) {
    if (report) report->failure = TransportFailure::kLost;
    return Status(StatusCode::kDeadlineExceeded, request.method + " " + req.path + ": timed out");
  }
  AnyResponse any = answer.get();
  auto* res = std::get_if<StringResponse>(&any);
  if (!res) return Status::Internal("in-process answer was a file");
  if ((*res)[kDropConnectionHeader] == "1") {
    if (report) report->failure = TransportFailure::kLost;
    return Status::Unavailable(request.method + " " + req.path + ": connection dropped");
  }
  OutboundResponse out;
  out.status = res->result_int();
  for (const auto& field : *res) {
    std::string name(field.name_string());
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    out.headers[name] = std::string(field.value());
  }
  out.body = std::move(res->body());
  return out;
}

}  // namespace apm
