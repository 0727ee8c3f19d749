// The anonymous home page's body: how to start the client from OOBE, in the company's words
// and with its logo when configured (the original's Homepage… keys). A pure function of the
// settings and the server's URL; unit-tested without a server.
#pragma once

#include <string>

#include "server/config.h"

namespace apm::web {

struct HomePageBody {
  std::string html;     // everything inside <body>, escaped
  std::string img_src;  // the logo's origin for the page's CSP img-src; "" without a logo
};

// `base_url`: how clients reach this server (PublicUrl, or the request's own host);
// `client_sha256`: of the ap.exe served ("" when none), `client_signed` when we signed it.
HomePageBody RenderHomePage(const Config& config, const std::string& base_url,
                            const std::string& client_sha256 = "", bool client_signed = false);

}  // namespace apm::web
