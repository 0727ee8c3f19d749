#include "server/http/curl_outbound_http.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <memory>

namespace apm {
namespace {

std::once_flag g_curl_init;

size_t AppendBody(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

size_t AppendHeader(char* data, size_t size, size_t n, void* user) {
  auto* headers = static_cast<std::map<std::string, std::string>*>(user);
  std::string_view line(data, size * n);
  if (line.starts_with("HTTP/")) {
    headers->clear();  // a new response (after 100-continue or a redirect)
    return size * n;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return size * n;
  std::string name(line.substr(0, colon));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
    value.remove_suffix(1);
  (*headers)[name] = std::string(value);
  return size * n;
}

// Called by libcurl while a transfer runs; a non-zero answer aborts it.
int AbortIfCancelled(void* cancelled, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<std::atomic<bool>*>(cancelled)->load() ? 1 : 0;
}

// What BeforeEachSend decides with: the request's rules and how often it left.
struct SendRules {
  const OutboundRequest& request;
  int sends = 0;
};

// libcurl calls this just before each send of a request, on a new or a reused connection. A
// second send is libcurl re-sending on its own after a reused connection closed unanswered;
// a `send_once` request refuses it, so that every send passes the caller's budget and retry.
int BeforeEachSend(void* rules, char*, char*, int, int) {
  auto& r = *static_cast<SendRules*>(rules);
  if (r.request.send_once && r.sends > 0) return CURL_PREREQFUNC_ABORT;
  if (r.request.may_send && !r.request.may_send()) return CURL_PREREQFUNC_ABORT;
  ++r.sends;
  return CURL_PREREQFUNC_OK;
}

struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

}  // namespace

CurlOutboundHttp::CurlOutboundHttp() : CurlOutboundHttp(Options{}) {}

CurlOutboundHttp::CurlOutboundHttp(Options options) : options_(std::move(options)) {
  std::call_once(g_curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

CurlOutboundHttp::~CurlOutboundHttp() {
  for (void* h : idle_) curl_easy_cleanup(static_cast<CURL*>(h));
}

void* CurlOutboundHttp::Borrow() {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      void* h = idle_.back();
      idle_.pop_back();
      return h;
    }
  }
  return curl_easy_init();
}

void CurlOutboundHttp::Return(void* handle) {
  std::lock_guard lock(mu_);
  idle_.push_back(handle);
}

Result<OutboundResponse> CurlOutboundHttp::Send(const OutboundRequest& request,
                                                SendReport* report) {
  if (cancelled_) {
    if (report) *report = {.failure = TransportFailure::kNotSent, .sends = 0};
    return Status::Unavailable("apm-server is shutting down");
  }
  CURL* curl = static_cast<CURL*>(Borrow());
  if (!curl) {
    if (report) *report = {.failure = TransportFailure::kNotSent, .sends = 0};
    return Status::Internal("libcurl could not create a handle");
  }
  curl_easy_reset(curl);
  OutboundResponse response;
  std::unique_ptr<curl_slist, SlistDeleter> headers;
  for (const auto& [name, value] : request.headers) {
    std::string line = name + ": " + value;
    headers.reset(curl_slist_append(headers.release(), line.c_str()));
  }
  // libcurl would add "Expect: 100-continue" to larger bodies and wait for it; Graph does not
  // need the round trip.
  headers.reset(curl_slist_append(headers.release(), "Expect:"));
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  if (request.method == "HEAD") curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  if (!request.body.empty() || request.method == "POST" || request.method == "PATCH" ||
      request.method == "PUT") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.size()));
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, long(request.timeout.count()));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   long(std::min<int64_t>(request.timeout.count(), 10'000)));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, AbortIfCancelled);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &cancelled_);
  if (!request.idempotent) curl_easy_setopt(curl, CURLOPT_FRESH_CONNECT, 1L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_USERAGENT, options_.user_agent.c_str());
  if (!options_.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, options_.ca_file.c_str());
  if (!options_.verify_peer) {
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, AppendBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, AppendHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response.headers);
  SendRules rules{.request = request};
  curl_easy_setopt(curl, CURLOPT_PREREQFUNCTION, BeforeEachSend);
  curl_easy_setopt(curl, CURLOPT_PREREQDATA, &rules);
  CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  // Nothing in the pooled handle may point at this call's stack.
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(curl, CURLOPT_PREREQFUNCTION, nullptr);
  curl_easy_setopt(curl, CURLOPT_PREREQDATA, nullptr);
  Return(curl);
  int sends = rules.sends;
  if (report) report->sends = sends;
  if (rc == CURLE_OK) {
    response.status = int(status);
    return response;
  }
  // Without a send the request never left (no connection); after one it may have been applied.
  if (report) report->failure = sends == 0 ? TransportFailure::kNotSent : TransportFailure::kLost;
  bool refused = rc == CURLE_ABORTED_BY_CALLBACK && !cancelled_;
  std::string why = !refused    ? curl_easy_strerror(rc)
                    : sends > 0 ? "the connection closed before an answer"
                                : "not sent: this instance may not send it now";
  std::string what =
      std::string(request.method) + " " + request.url.substr(0, request.url.find('?')) + ": " + why;
  if (rc == CURLE_OPERATION_TIMEDOUT) return Status(StatusCode::kDeadlineExceeded, what);
  return Status::Unavailable(what);
}

}  // namespace apm
