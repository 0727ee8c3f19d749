// Decides whose X-Forwarded-For / X-Forwarded-Proto headers are believed (TrustedProxies).
#pragma once

#include <boost/asio/ip/address.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace apm {

class TrustedProxies {
 public:
  // Entries are addresses ("10.0.0.5", "::1") or CIDR blocks ("10.0.0.0/8", "fd00::/8").
  static Result<TrustedProxies> Parse(const std::vector<std::string>& entries);

  bool Contains(const boost::asio::ip::address& address) const;

  struct Client {
    std::string address;
    bool secure;
  };
  // The real client of a connection from `peer`: the peer itself unless it is trusted, then the
  // right-most X-Forwarded-For entry that is not a trusted proxy.
  Client Resolve(const boost::asio::ip::address& peer, bool tls, std::string_view forwarded_for,
                 std::string_view forwarded_proto) const;

  bool empty() const { return blocks_.empty(); }

 private:
  struct Block {
    boost::asio::ip::address_v6::bytes_type bytes;  // IPv4 as v4-mapped IPv6
    int prefix;
  };
  std::vector<Block> blocks_;
};

}  // namespace apm
