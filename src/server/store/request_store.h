// Durable storage of device requests. Callers see only this interface, so the SQLite store
// (default, embedded) and a PostgreSQL store (scale-out, later) are interchangeable.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/request_state.h"
#include "core/status.h"
#include "server/store/import_phase.h"

namespace apm {

struct StoredRequest {
  std::string id;
  std::string serial_number;
  std::string manufacturer;
  std::string model;
  std::string hardware_hash;  // base64 text as submitted
  std::string hash_fingerprint;
  std::string product_key;
  std::string client_version;
  std::string client_address;
  std::string api;           // "v1" or "compat"
  std::string verification;  // verified | mismatch | unverifiable | skipped
  std::string hash_facts;    // JSON object of the decoded hash, for approvers
  // What the tenant held for this serial when it was looked up (RegistrationCheck as JSON), and
  // when; "" and 0 until the lookup has run.
  std::string registration;
  int64_t registration_checked_at = 0;
  // What the device's user asked for (an ApprovalActionName): "import", "remove_intune_record"
  // (ap -e) or "register_corporate_identifier" (ap -u, no hash).
  std::string requested_action = "import";
  // The validation function's verdict (decision_hooks.h): "" (none configured), "passed",
  // "bypassed" (the old client's BYPASS) or "unanswered" (FunctionFailurePolicy = wait). The
  // last two leave the decision to an approver.
  std::string function_validation;
  std::string proposed_group_tag;  // the grouptag function's answer, the approver's default
  std::string proposed_user;       // a bulk upload's Assigned User, the approver's default
  RequestState state = RequestState::kPendingApproval;
  std::string step;
  std::optional<RequestError> error;
  int64_t created_at = 0;  // ms since epoch
  int64_t updated_at = 0;
  int64_t expires_at = 0;
  int64_t finished_at = 0;  // 0 while open
  int64_t version = 0;      // bumped by every change; the basis of ETags
};

struct CreateOutcome {
  enum class Kind {
    kCreated,
    kExistingOpenForSerial,       // an open request for the serial and hash exists; it is returned
    kOpenForSerialWithOtherHash,  // one exists for the serial with another hash: not returned
    kIdTaken,                     // the requested id is already in use
    kTooManyOpenForAddress,
  };
  Kind kind = Kind::kCreated;
  StoredRequest request;
};

struct RequestChange {
  std::string id;
  int64_t version = 0;
  int64_t seq = 0;
};

// What an approval asks the job to do (docs/operations.md, "Repairs").
enum class ApprovalAction {
  kImport,                       // import the hash (a device not registered yet)
  kReRegister,                   // replace the registration `registration_id` with this hash
  kUpdateOnly,                   // set tag, name and user on `registration_id`; import nothing
  kRemoveManagedDevice,          // delete the Intune managed device of `registration_id` only
  kRegisterCorporateIdentifier,  // APv2: register "Manufacturer,Model,Serial"; no hash
};
std::string_view ApprovalActionName(ApprovalAction action);  // "import", "re_register", ...
std::optional<ApprovalAction> ParseApprovalAction(std::string_view name);
// The phase a job approved with `action` starts in (import_phase.cc).
ImportPhase FirstPhase(ApprovalAction action);

// What an approver decided, and who decided it.
struct Approval {
  std::string group_tag;
  std::string assigned_user;  // UPN, or "" for none
  std::string device_name;    // display name to set, or ""
  std::string comment;
  std::string approver;  // UPN of the person (or "cli:<account>" for the admin command)
  ApprovalAction action = ApprovalAction::kImport;
  std::string registration_id;  // the existing registration the action is about, or ""
};

// The durable state of the import of one approved request.
struct ImportJob {
  std::string request_id;
  ImportPhase phase = ImportPhase::kImport;
  Approval approval;
  int64_t approved_at = 0;
  int64_t import_attempts = 0;  // import calls sent (recorded before sending)
  std::string import_id;        // the Graph import record
  std::string registration_id;  // the windowsAutopilotDeviceIdentity
  std::string aad_device_id;
  std::string entra_object_id;
  std::optional<RequestError> outcome;  // an import error, kept while the record is deleted
  // A repair: the managed device found on the old registration, and how many deletes of the
  // current phase's object were sent (recorded before sending, like import_attempts).
  std::string old_managed_device_id;
  int64_t delete_attempts = 0;
  int64_t phase_started_at = 0;  // basis of the phase's deadline
  int64_t updated_at = 0;
  // Not a column: an import record the job let go of; the save that carries it queues the
  // record's deletion in the same transaction (the background lane deletes it).
  std::string import_id_to_delete;
};

// An import record waiting for deletion (after its job moved on), and how often it was tried.
struct ImportRecordDeletion {
  std::string import_id;
  std::string request_id;
  int64_t queued_at = 0;
  int64_t attempts = 0;
};

// How long one job waited in a waiting phase (the engine times its polls from recent ones).
constexpr int kStepTimesKept = 200;
struct StepTime {
  ImportPhase phase = ImportPhase::kWaitImport;
  int64_t took_ms = 0;
  int64_t finished_at = 0;
};

// One visible change of a request: when it entered a state and step (the timeline).
struct RequestStep {
  int64_t at = 0;
  RequestState state = RequestState::kPendingApproval;
  std::string step;
};

// A request's outcome and every state it went through (the status page's statistics).
struct RequestTimeline {
  std::string id;
  RequestState state = RequestState::kPendingApproval;
  std::optional<RequestError> error;
  int64_t created_at = 0;
  int64_t finished_at = 0;
  std::vector<RequestStep> steps;  // oldest first
};

struct RequestFilter {
  std::optional<RequestState> state;
  int limit = 100;
  bool oldest_first = false;  // with `state` alone: oldest created first (newest by default)
  // Only approved requests (those with an import job), newest approval first, approved in
  // [approved_from, approved_to) (ms; 0 = open end). The filters apply before the limit.
  bool imported_only = false;
  int64_t approved_from = 0;
  int64_t approved_to = 0;
};

class RequestStore {
 public:
  virtual ~RequestStore() = default;

  // Durably stores `request` (id, timestamps and state already set) unless an open request for
  // the same serial exists or the address has too many open requests. Returns once committed.
  // `alias_id`, when not empty, is an extra id that resolves to the created or existing request
  // (old clients choose their own id).
  virtual Result<CreateOutcome> Create(const StoredRequest& request, int64_t max_open_per_address,
                                       const std::string& alias_id) = 0;

  // The request with this id (or alias), without `hardware_hash` and `hash_facts`; kNotFound if
  // there is none.
  virtual Result<StoredRequest> Get(const std::string& id) = 0;
  // The same with the hash and its decoded facts.
  virtual Result<StoredRequest> GetWithHash(const std::string& id) = 0;

  // Moves a request to `to` if it is in one of `from`; kFailedPrecondition otherwise.
  virtual Result<StoredRequest> Transition(const std::string& id,
                                           std::span<const RequestState> from, RequestState to,
                                           const std::string& step,
                                           const std::optional<RequestError>& error,
                                           int64_t now_ms) = 0;

  // Pending requests whose approval time ran out become expired; returns how many.
  virtual Result<int64_t> ExpirePending(int64_t now_ms) = 0;

  // Deletes requests that finished before `cutoff_ms`; returns how many.
  virtual Result<int64_t> PurgeFinishedBefore(int64_t cutoff_ms) = 0;

  // Changes after `seq`, oldest first, and the newest sequence number (for long-polls).
  virtual Result<std::vector<RequestChange>> ChangesSince(int64_t seq, int64_t* latest) = 0;

  virtual Result<std::map<RequestState, int64_t>> CountByState() = 0;
  virtual Result<std::vector<StoredRequest>> List(const RequestFilter& filter) = 0;

  // Approves a pending request: it becomes approved and gets an import job, in one
  // transaction. kFailedPrecondition naming the state when it is not pending any more.
  virtual Result<StoredRequest> Approve(const std::string& id, const Approval& approval,
                                        int64_t now_ms) = 0;

  // The job of a request; kNotFound when it was never approved.
  virtual Result<ImportJob> GetJob(const std::string& request_id) = 0;

  // Jobs not done yet, oldest approval first.
  virtual Result<std::vector<ImportJob>> OpenJobs(int limit) = 0;

  // Saves a job's progress and, in the same transaction, the request's state, step and error
  // (the request's version changes only when one of those does).
  virtual Result<StoredRequest> SaveJob(const ImportJob& job, RequestState state,
                                        const std::string& step,
                                        const std::optional<RequestError>& error,
                                        int64_t now_ms) = 0;

  // Import record deletions due at `now_ms` (never tried, or retry time reached), oldest first.
  virtual Result<std::vector<ImportRecordDeletion>> DueImportDeletions(int64_t now_ms,
                                                                       int limit) = 0;
  // Ends the deletions in `done`; those in `retry` are tried again from `retry_at_ms`.
  virtual Status FinishImportDeletions(const std::vector<std::string>& done,
                                       const std::vector<std::string>& retry,
                                       int64_t retry_at_ms) = 0;
  // How many import records wait for deletion (a metric).
  virtual Result<int64_t> PendingImportDeletions() = 0;

  // Keeps how long waits took: the newest kStepTimesKept of each phase (older ones go).
  virtual Status RecordStepTimes(const std::vector<StepTime>& times) = 0;
  // The newest `per_phase` step times of each phase, oldest first.
  virtual Result<std::vector<StepTime>> RecentStepTimes(int per_phase) = 0;

  // Keeps what the tenant held for the request's serial (RegistrationCheck JSON); does not
  // change the request's version (the client's view is the same).
  virtual Status SaveRegistration(const std::string& id, const std::string& registration,
                                  int64_t now_ms) = 0;
  // Pending requests whose registration was not looked up yet, oldest first.
  virtual Result<std::vector<StoredRequest>> PendingWithoutRegistration(int limit) = 0;

  // Every state and step the request has been in, oldest first.
  virtual Result<std::vector<RequestStep>> Steps(const std::string& id) = 0;
  // The timelines of the requests changed at or after `since_ms`, at most `limit` of them
  // (the most recently changed).
  virtual Result<std::vector<RequestTimeline>> TimelinesSince(int64_t since_ms, int limit) = 0;
  // Cheap check that the store answers (readiness).
  virtual Status Ping() = 0;
};

}  // namespace apm
