#include "server/http/request_checks.h"

#include "core/text.h"

namespace apm {

std::vector<std::string> ListMembers(std::string_view value) {
  std::vector<std::string> out;
  while (!value.empty()) {
    size_t comma = value.find(',');
    std::string member = Trim(value.substr(0, comma));
    if (!member.empty()) out.push_back(std::move(member));
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return out;
}

namespace {

std::string_view OpaqueTag(std::string_view tag) {
  if (tag.starts_with("W/")) tag.remove_prefix(2);
  return tag;
}

}  // namespace

std::string JoinedFieldValues(const http::fields& fields, std::string_view name) {
  std::string out;
  auto [begin, end] = fields.equal_range(name);
  for (auto it = begin; it != end; ++it) {
    if (!out.empty()) out += ", ";
    out += it->value();
  }
  return out;
}

size_t FieldBytes(const http::fields& fields) {
  size_t n = 0;
  for (const auto& f : fields) n += f.name_string().size() + f.value().size() + 4;
  return n;
}

std::optional<std::string> FramingError(const http::fields& fields, unsigned version) {
  size_t hosts = fields.count(http::field::host);
  if (version >= 11 && hosts != 1) {
    return hosts == 0 ? "an HTTP/1.1 request needs a Host header"
                      : "a request may carry only one Host header";
  }
  if (hosts > 1) return "a request may carry only one Host header";
  if (fields.count(http::field::transfer_encoding) == 0) return std::nullopt;
  if (version < 11) return "Transfer-Encoding is not allowed in HTTP/1.0";
  std::vector<std::string> codings =
      ListMembers(JoinedFieldValues(fields, to_string(http::field::transfer_encoding)));
  if (codings.size() != 1 || !EqualsIgnoreCase(codings[0], "chunked")) {
    return "Transfer-Encoding must be exactly \"chunked\"; other codings are not supported";
  }
  if (fields.count(http::field::content_length) != 0) {
    return "a request must not carry both Transfer-Encoding and Content-Length";
  }
  return std::nullopt;
}

std::optional<std::string> FrontDoorRefusal(const http::fields& fields, http::verb method,
                                            std::string_view target,
                                            const std::vector<std::string>& required_ids) {
  if (required_ids.empty()) return std::nullopt;
  std::string_view path = target.substr(0, target.find('?'));
  bool probe = method == http::verb::get || method == http::verb::head;
  if (probe && (path == "/healthz" || path == "/readyz")) return std::nullopt;
  constexpr std::string_view kHeader = "X-Azure-FDID";
  size_t lines = fields.count(kHeader);
  if (lines == 0) return "requests must come through this service's Azure Front Door";
  if (lines > 1) return "a request through the Azure Front Door carries one X-Azure-FDID header";
  std::string_view id = fields.find(kHeader)->value();
  for (const std::string& required : required_ids) {
    if (EqualsIgnoreCase(Trim(id), required)) return std::nullopt;
  }
  return "requests must come through this service's Azure Front Door, not another one";
}

bool IfNoneMatchMatches(std::string_view if_none_match, std::string_view etag) {
  for (const std::string& member : ListMembers(if_none_match)) {
    if (member == "*" || OpaqueTag(member) == OpaqueTag(etag)) return true;
  }
  return false;
}

}  // namespace apm
