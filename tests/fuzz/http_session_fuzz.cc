// Raw bytes through a real HTTP session into the real handlers: apm-server assembled as it
// runs (ServerApp: the HTTP server, the API and web handlers, the intake, the store), on a
// loopback port, over a SQLite store in /dev/shm (a file in memory). Each input is written to
// a new connection, followed by a request that closes it, and read until the server closes it. A
// crash or sanitizer report anywhere in the server is this process's, so libFuzzer sees it;
// afterwards the server must still answer.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include "fuzz_input.h"
#include "server/logging.h"
#include "server/server_app.h"

namespace {

apm::ServerApp* g_server = nullptr;
uint16_t g_port = 0;

void SetReceiveTimeout(int fd, int ms) {
  timeval timeout{.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
}

// A connect a signal interrupted goes on by itself; true once it has.
bool ConnectsAfterASignal(int fd) {
  pollfd p{fd, POLLOUT, 0};
  int ready;
  do ready = ::poll(&p, 1, 5000);
  while (ready < 0 && errno == EINTR);
  int error = 0;
  socklen_t length = sizeof error;
  return ready == 1 && ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0 && error == 0;
}

int Connect() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) std::abort();
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(g_port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 &&
      !(errno == EINTR && ConnectsAfterASignal(fd))) {
    std::perror("the server stopped accepting connections");
    std::abort();
  }
  return fd;
}

// A last request that makes the server close the connection once it has answered the input's.
// The blank lines end a header block the input left open.
constexpr std::string_view kClosingRequest =
    "\r\n\r\nGET /healthz HTTP/1.1\r\nHost: fuzz\r\nConnection: close\r\n\r\n";

// What an exchange got back, and how it ended (told when a check fails).
struct Exchanged {
  std::string answer;
  std::string ending;
};

// Sends `bytes` and reads until the server closes the connection; the answer. An input that
// keeps the server waiting (a body shorter than its Content-Length, a long-poll) is half-closed
// after 50 ms of silence: not at once, because the server takes a client that half-closes as
// gone and drops the answers it was still preparing for it.
Exchanged Exchange(std::string_view bytes) {
  int fd = Connect();
  size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // the server may close early (a refused request): fine
    sent += size_t(n);
  }
  SetReceiveTimeout(fd, 50);
  bool half_closed = false;
  Exchanged got;
  std::string& answer = got.answer;
  char buf[16384];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    // libFuzzer's timeout is a SIGALRM every few seconds, and a socket with a receive timeout
    // is never restarted after a signal (signal(7)): the campaign's one finding was this.
    if (n < 0 && errno == EINTR) continue;
    if (n > 0) {
      answer.append(buf, size_t(n));
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && !half_closed) {
      ::shutdown(fd, SHUT_WR);
      SetReceiveTimeout(fd, 5000);
      half_closed = true;
    } else {
      // closed, or silent 5 s after the half-close
      int error = errno;
      got.ending = n == 0 ? "closed by the server"
                   : (error == EAGAIN || error == EWOULDBLOCK)
                       ? "silent 5 s after the half-close"
                       : std::string("error: ") + std::strerror(error);
      if (!half_closed) got.ending += " before the half-close";
      break;
    }
  }
  ::close(fd);
  return got;
}

char g_data_dir[] = "/dev/shm/apm-http-fuzz-XXXXXX";

void RemoveDataDir() {
  std::error_code ec;
  std::filesystem::remove_all(g_data_dir, ec);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (::mkdtemp(g_data_dir) == nullptr) std::abort();
  std::atexit(RemoveDataDir);
  const char* dir = g_data_dir;
  apm::Config config;
  config.Listen = "127.0.0.1:0";
  config.DataDir = dir;
  config.Threads = 2;
  config.AccessLog = false;
  config.LogLevel = "critical";
  config.HashVerification = "warn";  // undecodable hashes are stored too: more paths to reach
  config.SubmitRatePerMinute = 1e9;  // every input may submit; the limiter has its own tests
  config.SubmitBurst = 1'000'000'000;
  config.MaxOpenRequestsPerAddress = 1'000'000'000;
  config.MaxWaitSeconds = 1;
  config.IdleTimeoutSeconds = 2;
  // Sign-in on, so the pages' own code runs (session look-up, roles, CSRF and Origin checks);
  // the provider is a closed local port, so a sign-in that starts fails at once.
  config.ApproverSecurityGroup = "0f3c1d2e-0000-4000-8000-00000000a001";
  config.ViewerSecurityGroup = "0f3c1d2e-0000-4000-8000-00000000a002";
  config.SignInAuthority = "http://127.0.0.1:9/fuzz-provider/v2.0";
  config.SignInClientId = "fuzz-client";
  config.SignInClientSecret = "fuzz-secret";
  apm::InitLogging(config.LogFormat, config.LogLevel);
  g_server = new apm::ServerApp(config);  // lives as long as the process
  if (apm::Status s = g_server->Start(); !s.ok()) {
    std::fprintf(stderr, "apm-server did not start: %s\n", s.ToString().c_str());
    std::abort();
  }
  g_port = g_server->port();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  (void)Exchange(std::string(apm::fuzz::Bytes(data, size)) + std::string(kClosingRequest));
  // Whatever the input did, a plain request on a new connection is still answered.
  Exchanged health = Exchange(kClosingRequest.substr(4));
  if (health.answer.rfind("HTTP/1.1 200", 0) != 0) {
    std::fprintf(stderr, "/healthz answered: %.200s\n(%s; the server holds %zu connections)\n",
                 health.answer.c_str(), health.ending.c_str(), g_server->open_connections());
    std::abort();
  }
  return 0;
}
