// Tells systemd how the service is doing (a unit with Type=notify waits for READY=1), when
// systemd started us; does nothing otherwise. Hand-written rather than libsystemd's sd_notify:
// the protocol is one datagram to the socket named in $NOTIFY_SOCKET, and libsystemd would be
// a build and runtime dependency for those few lines.
#pragma once

#include <string_view>

#include "core/status.h"

namespace apm {

// Sends `state` (e.g. "READY=1", "STOPPING=1", "STATUS=…" lines) to $NOTIFY_SOCKET.
Status NotifySystemd(std::string_view state);

}  // namespace apm
