// SqlRequestStore's import jobs: approving (which creates the job), reading and saving jobs,
// each save in one transaction with the request's visible state.
#include "server/store/sql_request_store.h"
#include "server/store/sql_rows.h"

namespace apm {
namespace {

#define SELECT_JOB                                                                             \
  "SELECT request_id, phase, group_tag, assigned_user, device_name, comment, approver, "       \
  "approved_at, import_attempts, import_id, registration_id, aad_device_id, entra_object_id, " \
  "outcome_code, outcome_name, outcome_message, phase_started_at, updated_at, action, "        \
  "registration_to_replace, old_managed_device_id, delete_attempts FROM import_jobs "

ImportJob ReadJob(const SqlStatement& row) {
  ImportJob j;
  j.request_id = row.Text(0);
  j.phase = ParseImportPhase(row.Text(1)).value_or(ImportPhase::kDone);
  j.approval.group_tag = row.Text(2);
  j.approval.assigned_user = row.Text(3);
  j.approval.device_name = row.Text(4);
  j.approval.comment = row.Text(5);
  j.approval.approver = row.Text(6);
  j.approved_at = row.Int(7);
  j.import_attempts = row.Int(8);
  j.import_id = row.Text(9);
  j.registration_id = row.Text(10);
  j.aad_device_id = row.Text(11);
  j.entra_object_id = row.Text(12);
  if (!row.IsNull(13)) j.outcome = RequestError{row.Int(13), row.Text(14), row.Text(15)};
  j.phase_started_at = row.Int(16);
  j.updated_at = row.Int(17);
  j.approval.action = ParseApprovalAction(row.Text(18)).value_or(ApprovalAction::kImport);
  j.approval.registration_id = row.Text(19);
  j.old_managed_device_id = row.Text(20);
  j.delete_attempts = row.Int(21);
  return j;
}

Status WriteJob(SqlConnection& c, const ImportJob& j, bool insert) {
  Result<SqlStatement> s = c.Statement(
      insert ? "INSERT INTO import_jobs(phase, group_tag, assigned_user, device_name, "
               "comment, approver, approved_at, import_attempts, import_id, "
               "registration_id, aad_device_id, entra_object_id, outcome_code, outcome_name, "
               "outcome_message, phase_started_at, updated_at, action, registration_to_replace, "
               "old_managed_device_id, delete_attempts, request_id) VALUES (?1, ?2, ?3, ?4, ?5, "
               "?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?19, ?20, ?21, ?22, ?18)"
             : "UPDATE import_jobs SET phase = ?1, group_tag = ?2, assigned_user = ?3, "
               "device_name = ?4, comment = ?5, approver = ?6, approved_at = ?7, "
               "import_attempts = ?8, import_id = ?9, registration_id = ?10, "
               "aad_device_id = ?11, entra_object_id = ?12, outcome_code = ?13, "
               "outcome_name = ?14, outcome_message = ?15, phase_started_at = ?16, "
               "updated_at = ?17, action = ?19, registration_to_replace = ?20, "
               "old_managed_device_id = ?21, delete_attempts = ?22 WHERE request_id = ?18");
  if (!s.ok()) return s.status();
  s->Bind(1, ImportPhaseName(j.phase))
      .Bind(2, j.approval.group_tag)
      .Bind(3, j.approval.assigned_user)
      .Bind(4, j.approval.device_name)
      .Bind(5, j.approval.comment)
      .Bind(6, j.approval.approver)
      .Bind(7, j.approved_at)
      .Bind(8, j.import_attempts)
      .Bind(9, j.import_id)
      .Bind(10, j.registration_id)
      .Bind(11, j.aad_device_id)
      .Bind(12, j.entra_object_id);
  if (j.outcome) {
    s->Bind(13, j.outcome->code).Bind(14, j.outcome->name).Bind(15, j.outcome->message);
  } else {
    s->BindNull(13).BindNull(14).BindNull(15);
  }
  s->Bind(16, j.phase_started_at).Bind(17, j.updated_at).Bind(18, j.request_id);
  s->Bind(19, ApprovalActionName(j.approval.action))
      .Bind(20, j.approval.registration_id)
      .Bind(21, j.old_managed_device_id)
      .Bind(22, j.delete_attempts);
  if (Status st = RunToCompletion(c, *s, insert ? "insert job" : "update job"); !st.ok()) return st;
  if (c.Changes() != 1) return Status::NotFound("no job for " + j.request_id);
  return Status::Ok();
}

}  // namespace

Result<StoredRequest> SqlRequestStore::Approve(const std::string& id, const Approval& approval,
                                               int64_t now_ms) {
  return InWriteTransaction([&](SqlConnection& c) -> Result<StoredRequest> {
    Result<StoredRequest> current = GetOn(c, id);
    if (!current.ok()) return current.status();
    if (current->state != RequestState::kPendingApproval) {
      return Status::FailedPrecondition("request " + current->id + " is " +
                                        std::string(RequestStateName(current->state)) +
                                        ", not pending approval");
    }
    // Checked here too, not only by the expiry sweep: a timed-out request is never approved.
    if (current->expires_at <= now_ms) {
      return Status::FailedPrecondition("request " + current->id + " has expired");
    }
    ImportJob job;
    job.request_id = current->id;
    job.phase = FirstPhase(approval.action);
    job.approval = approval;
    // Update only works on the existing registration from the start.
    if (approval.action == ApprovalAction::kUpdateOnly)
      job.registration_id = approval.registration_id;
    job.approved_at = now_ms;
    job.phase_started_at = now_ms;
    job.updated_at = now_ms;
    if (Status s = WriteJob(c, job, /*insert=*/true); !s.ok()) return s;
    if (Status s = WriteState(c, current->id, RequestState::kApproved,
                              std::string(RequestStateStep(RequestState::kApproved)), std::nullopt,
                              now_ms);
        !s.ok())
      return s;
    return GetOn(c, current->id);
  });
}

Result<ImportJob> SqlRequestStore::GetJob(const std::string& request_id) {
  return OnReader([&](SqlConnection& c) -> Result<ImportJob> {
    Result<SqlStatement> s = c.Statement(SELECT_JOB "WHERE request_id = ?1");
    if (!s.ok()) return s.status();
    s->Bind(1, request_id);
    SqlStep rc = s->Step();
    if (rc == SqlStep::kRow) return ReadJob(*s);
    if (rc != SqlStep::kDone) return c.Error("get job");
    return Status::NotFound("request " + request_id + " has no import job");
  });
}

Result<std::vector<ImportJob>> SqlRequestStore::OpenJobs(int limit) {
  return OnReader([&](SqlConnection& c) -> Result<std::vector<ImportJob>> {
    Result<SqlStatement> s =
        c.Statement(SELECT_JOB "WHERE phase <> 'done' ORDER BY approved_at LIMIT ?1");
    if (!s.ok()) return s.status();
    s->Bind(1, int64_t(limit));
    std::vector<ImportJob> jobs;
    SqlStep rc;
    while ((rc = s->Step()) == SqlStep::kRow) jobs.push_back(ReadJob(*s));
    if (rc != SqlStep::kDone) return c.Error("open jobs");
    return jobs;
  });
}

Result<StoredRequest> SqlRequestStore::SaveJob(const ImportJob& job, RequestState state,
                                               const std::string& step,
                                               const std::optional<RequestError>& error,
                                               int64_t now_ms) {
  return InWriteTransaction([&](SqlConnection& c) -> Result<StoredRequest> {
    if (Status s = CheckJobFence(c); !s.ok()) return s;
    Result<StoredRequest> current = GetOn(c, job.request_id);
    if (!current.ok()) return current.status();
    if (Status s = WriteJob(c, job, /*insert=*/false); !s.ok()) return s;
    if (!job.import_id_to_delete.empty()) {
      Status s = QueueImportDeletion(c, job.import_id_to_delete, job.request_id, now_ms);
      if (!s.ok()) return s;
    }
    bool same_error =
        (!error && !current->error) ||
        (error && current->error && error->code == current->error->code &&
         error->name == current->error->name && error->message == current->error->message);
    if (current->state != state || current->step != step || !same_error) {
      if (Status s = WriteState(c, current->id, state, step, error, now_ms); !s.ok()) return s;
      Result<StoredRequest> updated = GetOn(c, current->id);
      if (!updated.ok()) return updated.status();
      current = std::move(updated);
    }
    return current;
  });
}

}  // namespace apm
