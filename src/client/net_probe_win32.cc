// NetProbe over Winsock 2: non-blocking TCP connects and one UDP exchange, each with a deadline.
#include <winsock2.h>  // before <windows.h>
#include <ws2tcpip.h>

#include "client/win32_text.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>

#include "client/net_probe.h"

namespace apm::client {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// "host:port", with brackets around an IPv6 literal.
std::string HostPort(const std::string& host, uint16_t port) {
  const bool ipv6_literal = host.find(':') != std::string::npos;
  return (ipv6_literal ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string SocketErrorWords(int code) {
  switch (code) {
    case WSAECONNREFUSED:
      return "connection refused";
    case WSAETIMEDOUT:
      return "timed out";
    case WSAENETUNREACH:
      return "network unreachable";
    case WSAEHOSTUNREACH:
      return "host unreachable";
    case WSAECONNRESET:
      return "connection reset (port unreachable)";
    case WSAEACCES:
      return "access denied (blocked by a firewall?)";
    case WSAHOST_NOT_FOUND:
      return "name not resolved";
    case WSATRY_AGAIN:
      return "name not resolved (DNS server did not answer)";
    case WSANO_DATA:
      return "name has no address";
    case WSAEAFNOSUPPORT:
      return "address family not supported";
    default: {
      std::string words = SystemErrorText(static_cast<DWORD>(code));
      return words.empty() ? "socket error " + std::to_string(code)
                           : words + " (socket error " + std::to_string(code) + ")";
    }
  }
}

class Socket {
 public:
  explicit Socket(SOCKET s) : socket_(s) {}
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  ~Socket() {
    if (socket_ != INVALID_SOCKET) closesocket(socket_);
  }
  SOCKET get() const { return socket_; }
  bool valid() const { return socket_ != INVALID_SOCKET; }

 private:
  SOCKET socket_;
};

struct AddrInfoDeleter {
  void operator()(addrinfo* list) const { freeaddrinfo(list); }
};
using AddrInfoList = std::unique_ptr<addrinfo, AddrInfoDeleter>;

Result<AddrInfoList> Resolve(const std::string& host, uint16_t port, int socket_type) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = socket_type;
  hints.ai_protocol = socket_type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP;
  addrinfo* list = nullptr;
  const int error = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &list);
  if (error != 0) {
    return Status::Unavailable("cannot resolve " + HostPort(host, port) + ": " +
                               SocketErrorWords(error));
  }
  return AddrInfoList(list);
}

// What is left until `deadline`, as select() wants it (never negative).
timeval Remaining(steady_clock::time_point deadline) {
  const auto left = std::max<long long>(
      0, std::chrono::duration_cast<std::chrono::microseconds>(deadline - steady_clock::now())
             .count());
  timeval tv;
  tv.tv_sec = static_cast<long>(left / 1000000);
  tv.tv_usec = static_cast<long>(left % 1000000);
  return tv;
}

// One attempt on one address; 0 when connected, otherwise the socket error.
int ConnectOne(const addrinfo& address, steady_clock::time_point deadline) {
  Socket s(socket(address.ai_family, address.ai_socktype, address.ai_protocol));
  if (!s.valid()) return WSAGetLastError();
  u_long non_blocking = 1;
  if (ioctlsocket(s.get(), FIONBIO, &non_blocking) != 0) return WSAGetLastError();
  if (connect(s.get(), address.ai_addr, static_cast<int>(address.ai_addrlen)) == 0) return 0;
  const int error = WSAGetLastError();
  if (error != WSAEWOULDBLOCK) return error;

  fd_set writable, failed;
  FD_ZERO(&writable);
  FD_ZERO(&failed);
  FD_SET(s.get(), &writable);
  FD_SET(s.get(), &failed);  // Winsock reports a failed connect here, not as writable
  timeval timeout = Remaining(deadline);
  const int ready = select(0, nullptr, &writable, &failed, &timeout);
  if (ready == SOCKET_ERROR) return WSAGetLastError();
  if (ready == 0) return WSAETIMEDOUT;
  int socket_error = 0;
  int length = sizeof socket_error;
  if (getsockopt(s.get(), SOL_SOCKET, SO_ERROR, reinterpret_cast<char*>(&socket_error), &length) !=
      0) {
    return WSAGetLastError();
  }
  if (FD_ISSET(s.get(), &failed) && socket_error == 0) return WSAECONNREFUSED;
  return socket_error;
}

class WinsockNetProbe : public NetProbe {
 public:
  WinsockNetProbe() {
    WSADATA data;
    startup_error_ = WSAStartup(MAKEWORD(2, 2), &data);
  }
  WinsockNetProbe(const WinsockNetProbe&) = delete;
  WinsockNetProbe& operator=(const WinsockNetProbe&) = delete;
  ~WinsockNetProbe() override {
    if (startup_error_ == 0) WSACleanup();
  }

  Status TcpConnect(const std::string& host, uint16_t port, milliseconds timeout) override {
    if (startup_error_ != 0) return NoWinsock();
    const auto deadline = steady_clock::now() + timeout;
    Result<AddrInfoList> addresses = Resolve(host, port, SOCK_STREAM);
    if (!addresses.ok()) return addresses.status();
    int last_error = WSAHOST_NOT_FOUND;
    for (const addrinfo* a = addresses->get(); a != nullptr; a = a->ai_next) {
      last_error = ConnectOne(*a, deadline);
      if (last_error == 0) return Status::Ok();
      if (steady_clock::now() >= deadline) {
        last_error = WSAETIMEDOUT;
        break;
      }
    }
    std::string reason = SocketErrorWords(last_error);
    if (last_error == WSAETIMEDOUT) reason += " after " + std::to_string(timeout.count()) + " ms";
    return Status::Unavailable("cannot connect to " + HostPort(host, port) + ": " + reason);
  }

  Result<std::string> UdpExchange(const std::string& host, uint16_t port,
                                  const std::string& request, milliseconds timeout) override {
    if (startup_error_ != 0) return NoWinsock();
    const auto deadline = steady_clock::now() + timeout;
    Result<AddrInfoList> addresses = Resolve(host, port, SOCK_DGRAM);
    if (!addresses.ok()) return addresses.status();
    const std::string endpoint = HostPort(host, port);

    // The first address we can send to (an IPv6 one fails at once without an IPv6 route).
    int last_error = WSAHOST_NOT_FOUND;
    for (const addrinfo* a = addresses->get(); a != nullptr; a = a->ai_next) {
      Socket s(socket(a->ai_family, a->ai_socktype, a->ai_protocol));
      if (!s.valid()) {
        last_error = WSAGetLastError();
        continue;
      }
      // connect() on UDP fixes the peer, so recv() only takes its answers.
      if (connect(s.get(), a->ai_addr, static_cast<int>(a->ai_addrlen)) != 0 ||
          send(s.get(), request.data(), static_cast<int>(request.size()), 0) == SOCKET_ERROR) {
        last_error = WSAGetLastError();
        continue;
      }
      fd_set readable;
      FD_ZERO(&readable);
      FD_SET(s.get(), &readable);
      timeval wait = Remaining(deadline);
      const int ready = select(0, &readable, nullptr, nullptr, &wait);
      if (ready == SOCKET_ERROR) {
        return Status::Unavailable("no answer from " + endpoint + ": " +
                                   SocketErrorWords(WSAGetLastError()));
      }
      if (ready == 0) {
        return Status::Unavailable("no answer from " + endpoint + " within " +
                                   std::to_string(timeout.count()) + " ms");
      }
      char answer[512];
      const int received = recv(s.get(), answer, sizeof answer, 0);
      if (received == SOCKET_ERROR) {
        const int error = WSAGetLastError();
        // A datagram longer than the buffer still holds the fields we read at its start.
        if (error == WSAEMSGSIZE) return std::string(answer, sizeof answer);
        return Status::Unavailable("no answer from " + endpoint + ": " + SocketErrorWords(error));
      }
      return std::string(answer, static_cast<size_t>(received));
    }
    return Status::Unavailable("cannot send to " + endpoint + ": " + SocketErrorWords(last_error));
  }

 private:
  Status NoWinsock() const {
    return Status::Unavailable("cannot start Winsock: " + SocketErrorWords(startup_error_));
  }

  int startup_error_ = 0;
};

}  // namespace

std::unique_ptr<NetProbe> NewSystemNetProbe() {
  return std::make_unique<WinsockNetProbe>();
}

}  // namespace apm::client
