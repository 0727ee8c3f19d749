#include "server/audit_trail.h"

#include "core/text.h"
#include "server/logging.h"

namespace apm {

void RecordAudit(SessionStore& audit, AuditEvent event) {
  event.detail = TruncateUtf8(event.detail, kMaxAuditDetailBytes);
  if (Status s = audit.AppendAudit(event); !s.ok()) {
    LogError("audit event lost", {{"action", event.action}, {"error", s.message()}});
  }
}

}  // namespace apm
