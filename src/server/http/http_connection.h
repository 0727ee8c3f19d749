// One HTTP connection (plain TCP or TLS) of HttpServer: reading with bounded buffers and the
// framing checks, handing requests to the handler, writing answers, and noticing a client that
// leaves while its request is held. Internal to the HTTP server.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <memory>

#include "server/http/http_server.h"

namespace apm {

// A connection object for an accepted socket, not yet started (TLS when `tls` is given).
std::shared_ptr<HttpConnection> NewConnection(HttpServer& server,
                                              boost::asio::ip::tcp::socket socket,
                                              boost::asio::ssl::context* tls, int worker);

}  // namespace apm
