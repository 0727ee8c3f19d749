#include "server/http/trusted_proxies.h"

#include "core/text.h"

namespace apm {
namespace {

namespace ip = boost::asio::ip;

ip::address_v6::bytes_type Bytes(const ip::address& a) {
  if (a.is_v4()) return ip::make_address_v6(ip::v4_mapped, a.to_v4()).to_bytes();
  return a.to_v6().to_bytes();
}

// IPv4-mapped IPv6 peers (dual-stack sockets) are compared as IPv4.
ip::address Normalize(const ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) return ip::make_address_v4(ip::v4_mapped, a.to_v6());
  return a;
}

}  // namespace

Result<TrustedProxies> TrustedProxies::Parse(const std::vector<std::string>& entries) {
  TrustedProxies t;
  for (const std::string& raw : entries) {
    std::string entry = Trim(raw);
    std::string addr = entry;
    int prefix = -1;
    size_t slash = entry.find('/');
    if (slash != std::string::npos) {
      addr = entry.substr(0, slash);
      std::string p = entry.substr(slash + 1);
      if (p.empty() || p.size() > 3 || p.find_first_not_of("0123456789") != std::string::npos) {
        return Status::InvalidArgument("TrustedProxies: bad prefix length in \"" + entry + "\"");
      }
      prefix = std::stoi(p);
    }
    boost::system::error_code ec;
    ip::address a = ip::make_address(addr, ec);
    if (ec) return Status::InvalidArgument("TrustedProxies: \"" + entry + "\" is not an address");
    int max = a.is_v4() ? 32 : 128;
    if (prefix < 0) prefix = max;
    if (prefix > max) {
      return Status::InvalidArgument("TrustedProxies: prefix too long in \"" + entry + "\"");
    }
    t.blocks_.push_back({Bytes(a), a.is_v4() ? prefix + 96 : prefix});
  }
  return t;
}

bool TrustedProxies::Contains(const ip::address& address) const {
  ip::address_v6::bytes_type b = Bytes(Normalize(address));
  for (const Block& block : blocks_) {
    int bits = block.prefix;
    bool match = true;
    for (int i = 0; i < 16 && bits > 0; ++i, bits -= 8) {
      uint8_t mask = bits >= 8 ? 0xff : uint8_t(0xff << (8 - bits));
      if ((b[i] & mask) != (block.bytes[i] & mask)) {
        match = false;
        break;
      }
    }
    if (match) return true;
  }
  return false;
}

TrustedProxies::Client TrustedProxies::Resolve(const ip::address& peer, bool tls,
                                               std::string_view forwarded_for,
                                               std::string_view forwarded_proto) const {
  Client c{Normalize(peer).to_string(), tls};
  if (blocks_.empty() || !Contains(peer)) return c;
  // Walk the chain from the nearest hop; stop at the first hop we do not trust.
  std::string_view rest = forwarded_for;
  while (!rest.empty()) {
    size_t comma = rest.rfind(',');
    std::string hop = Trim(comma == std::string_view::npos ? rest : rest.substr(comma + 1));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(0, comma);
    boost::system::error_code ec;
    ip::address a = ip::make_address(hop, ec);
    if (ec) break;  // garbage from further out is not believed
    c.address = Normalize(a).to_string();
    if (!Contains(a)) break;
  }
  if (!forwarded_proto.empty()) {
    size_t comma = forwarded_proto.rfind(',');
    std::string proto =
        Trim(comma == std::string_view::npos ? forwarded_proto : forwarded_proto.substr(comma + 1));
    c.secure = EqualsIgnoreCase(proto, "https");
  }
  return c;
}

}  // namespace apm
