// SqlRequestStore's diagnostics bundles (migration 13): kept with their request and removed
// with it by the foreign key's cascade.
#include "core/base64.h"
#include "server/store/sql_request_store.h"

namespace apm {

Result<DiagnosticsBundle> SqlRequestStore::AddDiagnostics(const DiagnosticsBundle& bundle,
                                                          std::string_view bytes,
                                                          int max_per_request) {
  // Encoded before the writer is taken: other writes wait for the insert only.
  const std::string content = Base64Encode(bytes);
  DiagnosticsBundle kept{bundle.request_id, 0,
                         bundle.file_name,  bundle.uploaded_at,
                         bundle.address,    int64_t(bytes.size()),
                         bundle.sha256,     ""};
  return InWriteTransaction([&](SqlConnection& c) -> Result<DiagnosticsBundle> {
    {
      Result<SqlStatement> s = c.Statement("SELECT 1 FROM requests WHERE id = ?1");
      if (!s.ok()) return s.status();
      s->Bind(1, kept.request_id);
      SqlStep rc = s->Step();
      if (rc == SqlStep::kDone) return Status::NotFound("no request with this id");
      if (rc != SqlStep::kRow) return c.Error("diagnostics request");
    }
    int64_t count = 0, last = 0;
    {
      Result<SqlStatement> s = c.Statement(
          "SELECT COUNT(*), COALESCE(MAX(number), 0) FROM request_diagnostics "
          "WHERE request_id = ?1");
      if (!s.ok()) return s.status();
      s->Bind(1, kept.request_id);
      if (s->Step() != SqlStep::kRow) return c.Error("count diagnostics");
      count = s->Int(0);
      last = s->Int(1);
    }
    if (count >= max_per_request) {
      return Status::ResourceExhausted("the request already has " + std::to_string(count) +
                                       " diagnostics bundles");
    }
    kept.number = last + 1;
    Result<SqlStatement> s = c.Statement(
        "INSERT INTO request_diagnostics (request_id, number, file_name, uploaded_at, address, "
        "size_bytes, sha256, content_base64) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    if (!s.ok()) return s.status();
    s->Bind(1, kept.request_id).Bind(2, kept.number).Bind(3, kept.file_name);
    s->Bind(4, kept.uploaded_at).Bind(5, kept.address).Bind(6, kept.size_bytes);
    s->Bind(7, kept.sha256).Bind(8, content);
    if (Status st = RunToCompletion(c, *s, "add diagnostics"); !st.ok()) return st;
    return kept;
  });
}

Result<std::vector<DiagnosticsBundle>> SqlRequestStore::ListDiagnostics(
    const std::string& request_id) {
  return OnReader([&](SqlConnection& c) -> Result<std::vector<DiagnosticsBundle>> {
    Result<SqlStatement> s = c.Statement(
        "SELECT number, file_name, uploaded_at, address, size_bytes, sha256 "
        "FROM request_diagnostics WHERE request_id = ?1 ORDER BY number");
    if (!s.ok()) return s.status();
    s->Bind(1, request_id);
    std::vector<DiagnosticsBundle> out;
    SqlStep rc;
    while ((rc = s->Step()) == SqlStep::kRow) {
      out.push_back(
          {request_id, s->Int(0), s->Text(1), s->Int(2), s->Text(3), s->Int(4), s->Text(5), ""});
    }
    if (rc != SqlStep::kDone) return c.Error("list diagnostics");
    return out;
  });
}

Result<DiagnosticsBundle> SqlRequestStore::GetDiagnostics(const std::string& request_id,
                                                          int64_t number) {
  return OnReader([&](SqlConnection& c) -> Result<DiagnosticsBundle> {
    Result<SqlStatement> s = c.Statement(
        "SELECT file_name, uploaded_at, address, size_bytes, sha256, content_base64 "
        "FROM request_diagnostics WHERE request_id = ?1 AND number = ?2");
    if (!s.ok()) return s.status();
    s->Bind(1, request_id).Bind(2, number);
    SqlStep rc = s->Step();
    if (rc == SqlStep::kDone) return Status::NotFound("no such diagnostics bundle");
    if (rc != SqlStep::kRow) return c.Error("get diagnostics");
    Result<std::string> bytes = Base64Decode(s->Text(5));
    if (!bytes.ok()) return Status::Internal("a stored diagnostics bundle is not base64");
    return DiagnosticsBundle{request_id, number,    s->Text(0), s->Int(1),
                             s->Text(2), s->Int(3), s->Text(4), std::move(*bytes)};
  });
}

}  // namespace apm
