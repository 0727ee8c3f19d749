// Network reachability for the pre-checks: TCP connects and an SNTP query.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "core/status.h"

namespace apm::client {

class NetProbe {
 public:
  virtual ~NetProbe() = default;
  // Opens (and closes) a TCP connection; kUnavailable naming the failure otherwise.
  virtual Status TcpConnect(const std::string& host, uint16_t port,
                            std::chrono::milliseconds timeout) = 0;
  // Sends `request` as one UDP datagram to host:port and returns the first answer.
  virtual Result<std::string> UdpExchange(const std::string& host, uint16_t port,
                                          const std::string& request,
                                          std::chrono::milliseconds timeout) = 0;
};

// BSD sockets on POSIX, Winsock on Windows.
std::unique_ptr<NetProbe> NewSystemNetProbe();

}  // namespace apm::client
