#include "server/systemd_notify.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>

namespace apm {
namespace {

class SystemdNotifyTest : public ::testing::Test {
 protected:
  void TearDown() override {
    unsetenv("NOTIFY_SOCKET");
    if (fd_ >= 0) ::close(fd_);
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  // A datagram socket standing in for systemd's, at `path` ("@name" for an abstract one).
  void Listen(const std::string& path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd_, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.data(), path.size());
    if (path[0] == '@') {
      addr.sun_path[0] = '\0';
    } else {
      path_ = path;
    }
    ASSERT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr),
                     socklen_t(offsetof(sockaddr_un, sun_path) + path.size())),
              0)
        << std::strerror(errno);
    setenv("NOTIFY_SOCKET", path.c_str(), 1);
  }
  std::string Received() {
    char buf[256];
    ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
    return n > 0 ? std::string(buf, size_t(n)) : std::string();
  }

  int fd_ = -1;
  std::string path_;
};

TEST_F(SystemdNotifyTest, ReadinessReachesTheSocketSystemdNamed) {
  Listen(::testing::TempDir() + "apm-notify-" + std::to_string(getpid()));
  ASSERT_TRUE(NotifySystemd("READY=1\nSTATUS=serving").ok());
  EXPECT_EQ(Received(), "READY=1\nSTATUS=serving");
}

TEST_F(SystemdNotifyTest, AnAbstractSocketWorksToo) {
  Listen("@apm-notify-test-" + std::to_string(getpid()));
  ASSERT_TRUE(NotifySystemd("STOPPING=1").ok());
  EXPECT_EQ(Received(), "STOPPING=1");
}

TEST_F(SystemdNotifyTest, WithoutSystemdNothingHappens) {
  unsetenv("NOTIFY_SOCKET");
  EXPECT_TRUE(NotifySystemd("READY=1").ok());
  setenv("NOTIFY_SOCKET", "relative/path", 1);
  EXPECT_FALSE(NotifySystemd("READY=1").ok()) << "a path systemd never gives is an error";
}

}  // namespace
}  // namespace apm
