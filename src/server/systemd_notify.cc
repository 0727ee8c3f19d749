#include "server/systemd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>

namespace apm {

Status NotifySystemd(std::string_view state) {
  const char* socket_path = std::getenv("NOTIFY_SOCKET");
  if (!socket_path || !*socket_path) return Status::Ok();  // not started by systemd
  std::string path(socket_path);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path || (path[0] != '/' && path[0] != '@')) {
    return Status::InvalidArgument("NOTIFY_SOCKET is not a socket path: " + path);
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  if (path[0] == '@') addr.sun_path[0] = '\0';  // an abstract socket
  socklen_t len = socklen_t(offsetof(sockaddr_un, sun_path) + path.size());
  int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::Unavailable(std::string("notify socket: ") + std::strerror(errno));
  ssize_t sent = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL,
                          reinterpret_cast<const sockaddr*>(&addr), len);
  int error = errno;
  ::close(fd);
  if (sent != ssize_t(state.size())) {
    return Status::Unavailable("telling systemd failed: " + std::string(std::strerror(error)));
  }
  return Status::Ok();
}

}  // namespace apm
