// Writing one event to the audit trail, as every service that records decisions does: the
// detail cut to a length pages and exports can show, a loss logged rather than failing the
// action it describes.
#pragma once

#include "server/store/session_store.h"

namespace apm {

inline constexpr size_t kMaxAuditDetailBytes = 600;

void RecordAudit(SessionStore& audit, AuditEvent event);

}  // namespace apm
