// A TCP connection to a loopback port that sends exactly the bytes a test gives it: for tests
// of what the HTTP layer does with requests no well-behaved client library would send.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <string_view>

namespace apm::testing {

class RawConnection {
 public:
  explicit RawConnection(uint16_t port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) Close();
  }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;
  ~RawConnection() { Close(); }

  bool connected() const { return fd_ >= 0; }

  // False when not everything could be sent (the server closed or reset the connection).
  bool Send(std::string_view bytes) {
    while (!bytes.empty() && fd_ >= 0) {
      ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(size_t(n));
    }
    return fd_ >= 0;
  }

  // What arrives until the server closes the connection or `timeout` passes.
  std::string ReadAll(std::chrono::milliseconds timeout) { return ReadUntil("", timeout); }

  // What arrives until it contains `text` (empty: until the close), or `timeout` passes.
  std::string ReadUntil(std::string_view text, std::chrono::milliseconds timeout) {
    std::string out;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (fd_ >= 0 && std::chrono::steady_clock::now() < deadline) {
      if (!text.empty() && out.find(text) != std::string::npos) break;
      pollfd p{fd_, POLLIN, 0};
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (::poll(&p, 1, std::max(int(left.count()), 1)) <= 0) break;
      char buf[4096];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        closed_by_peer_ = true;
        break;
      }
      out.append(buf, size_t(n));
    }
    return out;
  }

  // Whether a read saw the server end the connection.
  bool closed_by_peer() const { return closed_by_peer_; }

  // An abrupt close: RST instead of FIN.
  void Reset() {
    if (fd_ < 0) return;
    linger l{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    Close();
  }

  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
  bool closed_by_peer_ = false;
};

// Sends `bytes` on a new connection and returns everything read until the server closes it
// (or `timeout` passes).
inline std::string RawExchange(uint16_t port, std::string_view bytes,
                               std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  RawConnection c(port);
  if (!c.connected()) return "<connect failed>";
  c.Send(bytes);
  return c.ReadAll(timeout);
}

}  // namespace apm::testing
