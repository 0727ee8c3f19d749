// Pieces every handler of the server uses: plain responses, path segments, our public URL.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "server/config.h"
#include "server/http/http_types.h"

namespace apm {

// A response with no-store caching and nosniff.
StringResponse Respond(unsigned http_version, http::status status, std::string body,
                       std::string_view content_type);
StringResponse Respond(const InboundRequest& req, http::status status, std::string body,
                       std::string_view content_type);

// Host header characters that may appear in a URL we print or encode in a QR code.
bool SafeHost(std::string_view host);

// https://host[:port] as the client reached us (PublicUrl when configured).
std::string PublicBaseUrl(const Config& config, const InboundRequest& req);

}  // namespace apm
