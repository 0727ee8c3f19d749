// A request as the client API shows it (docs/api.md): the status object, its ETag and the
// approval URL its QR code carries. The hardware hash is never part of it.
#pragma once

#include <string>

#include "server/qr.h"
#include "server/store/request_store.h"

namespace apm {

// base_url + "/autopilot/" + id: the page a QR code opens.
std::string ApprovalUrl(const std::string& base_url, const StoredRequest& r);

// The status object, with the QR matrix when given.
std::string StatusJson(const StoredRequest& r, const std::string& base_url, bool approval_mode,
                       const QrMatrix* qr = nullptr);

// "v<version>", quoted: moves with every change of the request.
std::string ETag(const StoredRequest& r);

}  // namespace apm
