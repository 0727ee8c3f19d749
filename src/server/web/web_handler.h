// The pages people use: sign-in (OpenID Connect relying party), a request's page behind its QR
// link, the approvers' list, import history and audit — with every action authorized on the
// server by role, CSRF token and the request's current state.
#pragma once

#include <boost/asio/thread_pool.hpp>
#include <memory>
#include <string_view>

#include "server/approval_service.h"
#include "server/auth/oidc_client.h"
#include "server/auth/roles.h"
#include "server/clock.h"
#include "server/config.h"
#include "server/graph/graph_api.h"
#include "server/http/http_server.h"
#include "server/http/http_types.h"
#include "server/http/route_table.h"
#include "server/intake_service.h"
#include "server/rate_limiter.h"
#include "server/status/service_status.h"
#include "server/store/diagnostics_store.h"
#include "server/store/request_store.h"
#include "server/store/session_store.h"
#include "server/web/pages.h"
#include "server/web/session_manager.h"

namespace apm::web {

class WebHandler : public HttpHandler {
 public:
  // `oidc` null: sign-in is not configured and the pages say so. `graph` null: group overage
  // cannot be resolved (such users are refused with a clear page).
  WebHandler(const Config& config, RequestStore& store, SessionStore& sessions,
             DiagnosticsStore& diagnostics, ApprovalService& approvals, IntakeService& intake,
             auth::OidcClient* oidc, GraphApi* graph, ServiceStatus& status, const Clock& clock,
             boost::asio::thread_pool& blocking);

  // The routes of the pages (the rest belongs to the API).
  static bool Owns(std::string_view path);
  // The pages that take a CSV file, larger than other requests (HttpServerOptions::uploads).
  static std::vector<HttpServerOptions::Upload> Uploads(const Config& config);
  void Handle(InboundRequest request, Reply reply) override;
  // Periodic clean-up (the maintenance timer): forgets idle rate-limit buckets.
  void Maintain() {
    sign_in_limiter_.Sweep();
    callback_limiter_.Sweep();
  }

 private:
  struct Visit;
  // A route's work; `label` names it in logs and metrics when not its pattern.
  struct Target {
    void (*run)(WebHandler& handler, Visit& v, const std::vector<std::string>& params);
    std::string_view label = {};
  };
  // Every page route; Owns, matching and dispatch all read it.
  static const RouteTable<Target>& Routes();
  void Serve(Visit& v);
  void ReadForm(Visit& v);
  void SignIn(Visit& v);
  void SignInCallback(Visit& v);
  void SignOut(Visit& v);
  void RequestPage(Visit& v, const std::string& id);
  TemplateData GroupTagOptions(const std::optional<std::string>& current,
                               const std::string& proposed) const;
  void AddRegistration(TemplateData& d, const StoredRequest& r, const Visit& v,
                       bool can_decide) const;
  TemplateData Timeline(const StoredRequest& r);
  // The device's diagnostics bundles, for approvers and viewers (request_pages.cc).
  void AddDiagnostics(TemplateData& d, const StoredRequest& r);
  void DownloadDiagnostics(Visit& v, const std::string& id, const std::string& number);
  void Decide(Visit& v, const std::string& id, bool approve);
  // The action, group tag, name, user and comment an approver sent; what is wrong with them, if
  // anything. `current_tag` is the existing registration's tag, which it may keep;
  // `proposed_tag` the group tag function's, which it may choose.
  std::optional<std::string> ReadApproverFields(std::map<std::string, std::string>& form,
                                                const std::string& current_tag,
                                                const std::string& proposed_tag, Approval* a) const;
  // Whether an approver may choose `tag` from the configuration (GroupTag, or one of
  // ApprovalModeGroupTags).
  bool IsConfiguredGroupTag(const std::string& tag) const;
  void ApproveRequests(Visit& v);
  void UploadForm(Visit& v);
  void Upload(Visit& v);
  void ApproveUploaded(Visit& v);
  void ViewImports(Visit& v, bool csv);
  void AuditPage(Visit& v, bool csv);
  void StatusPage(Visit& v);

  // Answers and returns false unless the visitor is signed in and has the role.
  bool Require(Visit& v, bool has_role, std::string_view role_name, std::string_view setting);
  bool CheckPost(Visit& v);
  void Message(Visit& v, http::status status, std::string heading, std::string text,
               std::string link_href = "", std::string link_label = "");
  void SendPage(Visit& v, http::status status, Frame frame, PageTemplate page,
                const TemplateData& data);
  void Redirect(Visit& v, const std::string& location, http::status status = http::status::found,
                std::vector<std::string> cookies = {});
  void Audit(const Visit& v, std::string action, std::string request_id, std::string detail);
  Result<std::vector<std::string>> GroupsOf(const auth::IdentityClaims& identity);

  const Config& config_;
  RequestStore& store_;
  SessionStore& session_store_;
  DiagnosticsStore& diagnostics_;
  ApprovalService& approvals_;
  IntakeService& intake_;
  auth::OidcClient* oidc_;
  GraphApi* graph_;
  ServiceStatus& status_;
  const Clock& clock_;
  boost::asio::thread_pool& blocking_;
  SessionManager sessions_;
  RateLimiter sign_in_limiter_;   // sign-in starts per address
  RateLimiter callback_limiter_;  // sign-in answers (/signin-oidc) per address
};

}  // namespace apm::web
