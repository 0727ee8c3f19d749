#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "client/net_probe.h"

namespace apm::client {
namespace {

struct AddressList {
  addrinfo* head = nullptr;
  ~AddressList() {
    if (head) freeaddrinfo(head);
  }
};

Status Resolve(const std::string& host, uint16_t port, int type, AddressList* out) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = type;
  int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &out->head);
  if (rc != 0) return Status::Unavailable("cannot resolve " + host + ": " + gai_strerror(rc));
  return Status::Ok();
}

// Waits for `events` on `fd`; false on timeout.
bool WaitFor(int fd, short events, std::chrono::milliseconds timeout) {
  pollfd p{fd, events, 0};
  return poll(&p, 1, int(timeout.count())) == 1;
}

class PosixNetProbe : public NetProbe {
 public:
  Status TcpConnect(const std::string& host, uint16_t port,
                    std::chrono::milliseconds timeout) override {
    AddressList addresses;
    if (Status s = Resolve(host, port, SOCK_STREAM, &addresses); !s.ok()) return s;
    std::string last = "no address";
    for (addrinfo* a = addresses.head; a; a = a->ai_next) {
      int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      if (fd < 0) continue;
      int rc = connect(fd, a->ai_addr, a->ai_addrlen);
      int error = rc == 0 ? 0 : errno;
      if (error == EINPROGRESS) {
        if (!WaitFor(fd, POLLOUT, timeout)) {
          error = ETIMEDOUT;
        } else {
          socklen_t len = sizeof error;
          getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len);
        }
      }
      close(fd);
      if (error == 0) return Status::Ok();
      last = std::strerror(error);
    }
    return Status::Unavailable(host + ":" + std::to_string(port) + ": " + last);
  }

  Result<std::string> UdpExchange(const std::string& host, uint16_t port,
                                  const std::string& request,
                                  std::chrono::milliseconds timeout) override {
    AddressList addresses;
    if (Status s = Resolve(host, port, SOCK_DGRAM, &addresses); !s.ok()) return s;
    addrinfo* a = addresses.head;
    int fd = socket(a->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return Status::Unavailable(std::string("socket: ") + std::strerror(errno));
    std::string answer(512, '\0');
    ssize_t got = -1;
    if (sendto(fd, request.data(), request.size(), 0, a->ai_addr, a->ai_addrlen) >= 0 &&
        WaitFor(fd, POLLIN, timeout)) {
      got = recv(fd, answer.data(), answer.size(), 0);
    }
    int error = errno;
    close(fd);
    if (got < 0) {
      return Status::Unavailable(host + ":" + std::to_string(port) + ": " +
                                 (error ? std::strerror(error) : "no answer"));
    }
    answer.resize(size_t(got));
    return answer;
  }
};

}  // namespace

std::unique_ptr<NetProbe> NewSystemNetProbe() {
  return std::make_unique<PosixNetProbe>();
}

}  // namespace apm::client
