// What the HTTP layer checks in a request's header before it reads the body (RFC 9112 framing,
// Host), and the HTTP comparisons handlers share. Pure functions: unit-tested without sockets.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server/http/http_types.h"

namespace apm {

// Why a request's header cannot be framed or served safely, or nullopt when it can. Refused:
// a Transfer-Encoding other than exactly "chunked" (unknown, stacked or non-final codings could
// make us and a proxy read different bodies), Transfer-Encoding with Content-Length or in
// HTTP/1.0, and an HTTP/1.1 request without exactly one Host (HTTP/1.0: at most one).
std::optional<std::string> FramingError(const http::fields& fields, unsigned version);

// Why a request did not come through the required Azure Front Door profile (its X-Azure-FDID
// missing, repeated or another profile's), or nullopt when it did or `required_ids` is empty.
// GET and HEAD of /healthz and /readyz always pass: a load balancer's probe need not carry it
// (chosen by path, not by X-FD-HealthProbe, which anyone reaching the server could send).
std::optional<std::string> FrontDoorRefusal(const http::fields& fields, http::verb method,
                                            std::string_view target,
                                            const std::vector<std::string>& required_ids);

// The trimmed, non-empty members of a comma-separated list ("GET, HEAD", "chunked, gzip").
std::vector<std::string> ListMembers(std::string_view value);

// Every line of a field, in order, joined with ", " (RFC 9110 §5.3: the same meaning as one).
std::string JoinedFieldValues(const http::fields& fields, std::string_view name);

// Bytes the fields take on the wire ("Name: value\r\n" each): header and trailer together.
size_t FieldBytes(const http::fields& fields);

// If-None-Match against the current entity tag, with the weak comparison RFC 9110 §13.1.2
// asks for: W/"v3" matches "v3", a list matches when any member does, "*" matches anything.
bool IfNoneMatchMatches(std::string_view if_none_match, std::string_view etag);

}  // namespace apm
