// Sign-in state kept in the store, so it survives a restart and serves several instances:
// sign-ins in progress (state, nonce, PKCE verifier), sessions, and the audit trail.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace apm {

// A sign-in between the redirect to the provider and its answer; used once.
struct PendingLogin {
  std::string state;
  std::string nonce;
  std::string code_verifier;
  std::string return_to;  // a local path
  int64_t created_at = 0;
};

struct Session {
  std::string id;  // the cookie's value; the store keeps only its SHA-256
  std::string oid;
  std::string tid;
  std::string upn;
  std::string name;
  std::vector<std::string> groups;  // object ids, resolved at sign-in
  std::string csrf_token;
  int64_t created_at = 0;
  int64_t last_seen_at = 0;
};

struct AuditEvent {
  int64_t seq = 0;  // set by the store
  int64_t at = 0;
  std::string actor_oid;  // "" for the system or an anonymous visitor
  std::string actor_upn;  // or "cli:<account>" for the admin command
  std::string address;
  std::string action;  // "approve", "reject", "sign_in", "sign_in_failed", "sign_out", "config", …
  std::string request_id;
  std::string detail;
};

struct AuditFilter {
  int64_t since = 0;       // ms; 0 = from the start
  int64_t until = 0;       // ms; 0 = up to now
  std::string action;      // "" = all
  std::string request_id;  // "" = all
  int limit = 500;
};

class SessionStore {
 public:
  virtual ~SessionStore() = default;
  virtual Status SavePendingLogin(const PendingLogin& login) = 0;
  // Returns and deletes the sign-in for `state`: a replayed answer finds nothing (kNotFound).
  virtual Result<PendingLogin> TakePendingLogin(const std::string& state) = 0;
  virtual Status CreateSession(const Session& session) = 0;
  // kNotFound when there is no such session (never was, logged out, or purged).
  virtual Result<Session> GetSession(const std::string& id) = 0;
  virtual Status TouchSession(const std::string& id, int64_t now_ms) = 0;
  virtual Status DeleteSession(const std::string& id) = 0;
  // Removes sessions idle since before `idle_cutoff_ms` or created before `absolute_cutoff_ms`,
  // and sign-ins started before `login_cutoff_ms`; returns how many sessions went.
  virtual Result<int64_t> PurgeSessions(int64_t idle_cutoff_ms, int64_t absolute_cutoff_ms,
                                        int64_t login_cutoff_ms) = 0;

  virtual Status AppendAudit(const AuditEvent& event) = 0;
  // Removes audit events older than `cutoff_ms`; returns how many.
  // With `keep_unexported`, events the audit export has not delivered yet stay.
  virtual Result<int64_t> PurgeAuditBefore(int64_t cutoff_ms, bool keep_unexported = false) = 0;
  // Newest first.
  virtual Result<std::vector<AuditEvent>> ListAudit(const AuditFilter& filter) = 0;
};

}  // namespace apm
