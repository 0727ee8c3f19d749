// HttpClient over WinHTTP: the system proxy settings and the Windows certificate store.
#include "client/win32_text.h"  // first: <windows.h> before <winhttp.h>

#include <winhttp.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "client/http_client.h"

namespace apm::client {
namespace {

// A body larger than this is not something our server sends; stop rather than fill memory.
constexpr size_t kMaxBodyBytes = 32u << 20;

class InternetHandle {
 public:
  InternetHandle() = default;
  explicit InternetHandle(HINTERNET handle) : handle_(handle) {}
  InternetHandle(const InternetHandle&) = delete;
  InternetHandle& operator=(const InternetHandle&) = delete;
  ~InternetHandle() {
    if (handle_) WinHttpCloseHandle(handle_);
  }
  HINTERNET get() const { return handle_; }
  explicit operator bool() const { return handle_ != nullptr; }

 private:
  HINTERNET handle_ = nullptr;
};

const char* WinHttpErrorWords(DWORD code) {
  switch (code) {
    case ERROR_WINHTTP_TIMEOUT:
    case 10060:  // WSAETIMEDOUT: what Wine's WinHTTP reports for a receive timeout
      return "timed out";
    case ERROR_WINHTTP_NAME_NOT_RESOLVED:
      return "name not resolved";
    case ERROR_WINHTTP_CANNOT_CONNECT:
      return "connection refused or unreachable";
    case ERROR_WINHTTP_CONNECTION_ERROR:
      return "connection aborted";
    case ERROR_WINHTTP_SECURE_FAILURE:
      return "TLS certificate not accepted";
    case ERROR_WINHTTP_SECURE_CHANNEL_ERROR:
      return "TLS handshake failed";
    case ERROR_WINHTTP_SECURE_INVALID_CA:
      return "TLS certificate from an untrusted authority";
    case ERROR_WINHTTP_SECURE_CERT_CN_INVALID:
      return "TLS certificate is for another name";
    case ERROR_WINHTTP_SECURE_CERT_DATE_INVALID:
      return "TLS certificate expired or not yet valid (check the clock)";
    case ERROR_WINHTTP_SECURE_CERT_REVOKED:
      return "TLS certificate revoked";
    case ERROR_WINHTTP_INVALID_SERVER_RESPONSE:
      return "invalid answer from the server";
    case ERROR_WINHTTP_UNRECOGNIZED_SCHEME:
      return "unsupported URL scheme";
    case ERROR_WINHTTP_INVALID_URL:
      return "invalid URL";
    case ERROR_WINHTTP_AUTODETECTION_FAILED:
    case ERROR_WINHTTP_UNABLE_TO_DOWNLOAD_SCRIPT:
    case ERROR_WINHTTP_BAD_AUTO_PROXY_SCRIPT:
      return "proxy auto-configuration failed";
    case ERROR_WINHTTP_CLIENT_AUTH_CERT_NEEDED:
      return "the server asks for a client certificate";
    case ERROR_WINHTTP_OPERATION_CANCELLED:
      return "cancelled";
    case ERROR_NOT_ENOUGH_MEMORY:
      return "out of memory";
    default:
      return nullptr;
  }
}

// "WinHTTP error 12029: connection refused or unreachable".
std::string DescribeWinHttpError(DWORD code) {
  std::string text = "WinHTTP error " + std::to_string(code);
  if (const char* words = WinHttpErrorWords(code)) {
    text += ": ";
    text += words;
  } else if (std::string system = SystemErrorText(code); !system.empty()) {
    text += ": " + system;
  }
  return text;
}

Status TransportError(std::string_view what, const std::string& host, DWORD code) {
  return Status::Unavailable(std::string(what) + " " + host + " (" + DescribeWinHttpError(code) +
                             ")");
}

// The response headers after the status line, as "Name: value" pairs in the order received.
std::vector<std::pair<std::string, std::string>> SplitRawHeaders(std::wstring_view raw) {
  std::vector<std::pair<std::string, std::string>> headers;
  bool status_line = true;
  while (!raw.empty()) {
    const size_t end = raw.find(L"\r\n");
    std::wstring_view line = raw.substr(0, end);
    raw = end == std::wstring_view::npos ? std::wstring_view() : raw.substr(end + 2);
    if (status_line) {
      status_line = false;
      continue;
    }
    if (line.empty()) continue;
    const size_t colon = line.find(L':');
    if (colon == std::wstring_view::npos || colon == 0) continue;
    std::wstring_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == L' ' || value.front() == L'\t')) {
      value.remove_prefix(1);
    }
    while (!value.empty() && (value.back() == L' ' || value.back() == L'\t')) {
      value.remove_suffix(1);
    }
    headers.emplace_back(Narrow(line.substr(0, colon)), Narrow(value));
  }
  return headers;
}

class WinHttpClient : public HttpClient {
 public:
  WinHttpClient() {
    const std::wstring agent = L"ap/" + Widen(APM_VERSION) + L" (Autopilot Manager client)";
    // Automatic proxy (WinHTTP and IE settings, WPAD) exists from Windows 8.1 on; older systems
    // reject it with ERROR_INVALID_PARAMETER and get the netsh winhttp proxy instead.
    HINTERNET session = WinHttpOpen(agent.c_str(), WINHTTP_ACCESS_TYPE_AUTOMATIC_PROXY,
                                    WINHTTP_NO_PROXY_NAME, WINHTTP_NO_PROXY_BYPASS, 0);
    if (!session) {
      session = WinHttpOpen(agent.c_str(), WINHTTP_ACCESS_TYPE_DEFAULT_PROXY, WINHTTP_NO_PROXY_NAME,
                            WINHTTP_NO_PROXY_BYPASS, 0);
    }
    if (!session) open_error_ = GetLastError();
    session_ = session;
  }
  WinHttpClient(const WinHttpClient&) = delete;
  WinHttpClient& operator=(const WinHttpClient&) = delete;
  ~WinHttpClient() override {
    if (session_) WinHttpCloseHandle(session_);
  }

  Result<HttpResponse> Send(const HttpRequest& request) override;

 private:
  HINTERNET session_ = nullptr;
  DWORD open_error_ = 0;
};

// Where a URL points, as WinHTTP wants it.
struct Target {
  std::wstring host;
  INTERNET_PORT port = 0;
  std::wstring object;  // path and query
  bool secure = false;
  std::string host_name;  // host[:port] for messages
};

Result<Target> CrackTarget(const std::string& text) {
  const std::wstring url = Widen(text);
  URL_COMPONENTS parts{};
  parts.dwStructSize = sizeof parts;
  parts.dwSchemeLength = static_cast<DWORD>(-1);
  parts.dwHostNameLength = static_cast<DWORD>(-1);
  parts.dwUrlPathLength = static_cast<DWORD>(-1);
  parts.dwExtraInfoLength = static_cast<DWORD>(-1);
  if (url.empty() || !WinHttpCrackUrl(url.c_str(), static_cast<DWORD>(url.size()), 0, &parts)) {
    return Status::InvalidArgument("not a valid http(s) URL: " + text);
  }
  Target target;
  target.secure = parts.nScheme == INTERNET_SCHEME_HTTPS;
  target.host.assign(parts.lpszHostName, parts.dwHostNameLength);
  target.port = parts.nPort;
  target.object.assign(parts.lpszUrlPath ? parts.lpszUrlPath : L"", parts.dwUrlPathLength);
  if (parts.lpszExtraInfo) target.object.append(parts.lpszExtraInfo, parts.dwExtraInfoLength);
  if (target.object.empty()) target.object = L"/";
  const bool default_port =
      parts.nPort == (target.secure ? INTERNET_DEFAULT_HTTPS_PORT : INTERNET_DEFAULT_HTTP_PORT);
  target.host_name = Narrow(target.host) + (default_port ? "" : ":" + std::to_string(parts.nPort));
  return target;
}

// No redirects (the workflow follows them itself, keeping the final URL) and one timeout for
// every phase, the wait for the response headers included (90 s by default).
Status ConfigureRequest(HINTERNET handle, std::chrono::milliseconds timeout,
                        const std::string& host_name) {
  DWORD redirect_policy = WINHTTP_OPTION_REDIRECT_POLICY_NEVER;
  if (!WinHttpSetOption(handle, WINHTTP_OPTION_REDIRECT_POLICY, &redirect_policy,
                        sizeof redirect_policy)) {
    DWORD disable = WINHTTP_DISABLE_REDIRECTS;
    if (!WinHttpSetOption(handle, WINHTTP_OPTION_DISABLE_FEATURE, &disable, sizeof disable)) {
      return TransportError("cannot turn off redirects for", host_name, GetLastError());
    }
  }
  const int timeout_ms =
      static_cast<int>(std::clamp<long long>(timeout.count(), 1, 24LL * 60 * 60 * 1000));
  if (!WinHttpSetTimeouts(handle, timeout_ms, timeout_ms, timeout_ms, timeout_ms)) {
    return TransportError("cannot set timeouts for", host_name, GetLastError());
  }
  DWORD response_timeout = static_cast<DWORD>(timeout_ms);
  WinHttpSetOption(handle, WINHTTP_OPTION_RECEIVE_RESPONSE_TIMEOUT, &response_timeout,
                   sizeof response_timeout);
  return Status::Ok();
}

BOOL SendHeadersAndBody(HINTERNET handle, const HttpRequest& request) {
  std::wstring header_block;
  for (const auto& [name, value] : request.headers) {
    header_block += Widen(name) + L": " + Widen(value) + L"\r\n";
  }
  const DWORD body_size = static_cast<DWORD>(request.body.size());
  void* body = body_size ? const_cast<char*>(request.body.data()) : WINHTTP_NO_REQUEST_DATA;
  auto send = [&] {
    return WinHttpSendRequest(
        handle, header_block.empty() ? WINHTTP_NO_ADDITIONAL_HEADERS : header_block.c_str(),
        static_cast<DWORD>(header_block.size()), body, body_size, body_size, 0);
  };
  BOOL sent = send();
  if (!sent && GetLastError() == ERROR_WINHTTP_CLIENT_AUTH_CERT_NEEDED) {
    // A TLS front end that asks for an optional client certificate: go on without one.
    WinHttpSetOption(handle, WINHTTP_OPTION_CLIENT_CERT_CONTEXT, WINHTTP_NO_CLIENT_CERT_CONTEXT, 0);
    sent = send();
  }
  return sent;
}

std::vector<std::pair<std::string, std::string>> ReadHeaders(HINTERNET handle) {
  DWORD raw_bytes = 0;
  WinHttpQueryHeaders(handle, WINHTTP_QUERY_RAW_HEADERS_CRLF, WINHTTP_HEADER_NAME_BY_INDEX,
                      WINHTTP_NO_OUTPUT_BUFFER, &raw_bytes, WINHTTP_NO_HEADER_INDEX);
  if (GetLastError() != ERROR_INSUFFICIENT_BUFFER || raw_bytes == 0) return {};
  std::wstring raw(raw_bytes / sizeof(wchar_t) + 1, L'\0');
  if (!WinHttpQueryHeaders(handle, WINHTTP_QUERY_RAW_HEADERS_CRLF, WINHTTP_HEADER_NAME_BY_INDEX,
                           raw.data(), &raw_bytes, WINHTTP_NO_HEADER_INDEX)) {
    return {};
  }
  raw.resize(raw_bytes / sizeof(wchar_t));
  return SplitRawHeaders(raw);
}

Result<HttpResponse> ReadResponse(HINTERNET handle, const std::string& host_name) {
  if (!WinHttpReceiveResponse(handle, nullptr)) {
    return TransportError("no answer from", host_name, GetLastError());
  }
  HttpResponse response;
  DWORD status = 0;
  DWORD status_size = sizeof status;
  if (!WinHttpQueryHeaders(handle, WINHTTP_QUERY_STATUS_CODE | WINHTTP_QUERY_FLAG_NUMBER,
                           WINHTTP_HEADER_NAME_BY_INDEX, &status, &status_size,
                           WINHTTP_NO_HEADER_INDEX)) {
    return TransportError("no status code from", host_name, GetLastError());
  }
  response.status = static_cast<int>(status);
  response.headers = ReadHeaders(handle);

  char buffer[16384];
  for (;;) {
    DWORD read = 0;
    if (!WinHttpReadData(handle, buffer, sizeof buffer, &read)) {
      return TransportError("lost the connection to", host_name, GetLastError());
    }
    if (read == 0) break;
    if (response.body.size() + read > kMaxBodyBytes) {
      return Status::Unavailable("the answer from " + host_name + " is larger than " +
                                 std::to_string(kMaxBodyBytes >> 20) + " MiB");
    }
    response.body.append(buffer, read);
  }
  return response;
}

Result<HttpResponse> WinHttpClient::Send(const HttpRequest& request) {
  if (!session_) {
    return Status::Unavailable("cannot start WinHTTP (" + DescribeWinHttpError(open_error_) + ")");
  }
  Result<Target> target = CrackTarget(request.url);
  if (!target.ok()) return target.status();
  const std::string& host_name = target->host_name;

  InternetHandle connection(WinHttpConnect(session_, target->host.c_str(), target->port, 0));
  if (!connection) return TransportError("cannot connect to", host_name, GetLastError());
  const std::wstring method = Widen(request.method);
  InternetHandle handle(WinHttpOpenRequest(
      connection.get(), method.c_str(), target->object.c_str(), nullptr, WINHTTP_NO_REFERER,
      WINHTTP_DEFAULT_ACCEPT_TYPES, target->secure ? WINHTTP_FLAG_SECURE : 0));
  if (!handle) return TransportError("cannot connect to", host_name, GetLastError());

  if (Status configured = ConfigureRequest(handle.get(), request.timeout, host_name);
      !configured.ok()) {
    return configured;
  }
  if (!SendHeadersAndBody(handle.get(), request)) {
    return TransportError("cannot connect to", host_name, GetLastError());
  }
  return ReadResponse(handle.get(), host_name);
}

}  // namespace

std::unique_ptr<HttpClient> NewSystemHttpClient() {
  return std::make_unique<WinHttpClient>();
}

}  // namespace apm::client
