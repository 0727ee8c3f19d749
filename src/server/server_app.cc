#include "server/server_app.h"

#include "core/diagnostics_bundle.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "server/graph_settings.h"
#include "server/logging.h"
#include "server/store/sqlite_integrity.h"

namespace apm {

namespace {

// The pages' routes go to the web handler, everything else to the API.
class PathRouter : public HttpHandler {
 public:
  PathRouter(HttpHandler& web, HttpHandler& api) : web_(web), api_(api) {}
  void Handle(InboundRequest request, Reply reply) override {
    HttpHandler& target = web::WebHandler::Owns(request.path) ? web_ : api_;
    target.Handle(std::move(request), std::move(reply));
  }
  void OnShutdown() override {
    web_.OnShutdown();
    api_.OnShutdown();
  }

 private:
  HttpHandler& web_;
  HttpHandler& api_;
};

}  // namespace

ServerApp::ServerApp(Config config) : config_(std::move(config)) {}

ServerApp::~ServerApp() {
  Shutdown();
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

// A damaged file is refused before anything more is written to it (a write could spread the
// damage); a new installation has no file yet.
static Status CheckStoreAtStart(const std::string& db_path) {
  Result<std::vector<std::string>> problems = CheckSqliteIntegrity(db_path, IntegrityDepth::kQuick);
  if (!problems.ok()) {
    return problems.status().code() == StatusCode::kNotFound ? Status::Ok() : problems.status();
  }
  if (problems->empty()) return Status::Ok();
  return Status::FailedPrecondition(
      "the database " + db_path + " failed its integrity check (" + problems->front() +
      (problems->size() > 1 ? "; " + std::to_string(problems->size() - 1) + " more" : "") +
      "); refusing to start so that nothing more is written to it. `apm-server db check` "
      "lists every problem; restore the latest backup (`apm-server backup` makes them; "
      "docs/deployment.md, \"Backup and restore\")");
}

Status ServerApp::OpenStore() {
  if (!config_.DatabaseUrl.empty()) return OpenPostgres();
  std::error_code ec;
  std::filesystem::create_directories(config_.DataDir, ec);
  if (ec) return Status::Unavailable("DataDir " + config_.DataDir + ": " + ec.message());
  // One server per data directory: two would both run every import job (the lock goes with
  // the process, so a killed server never leaves it behind).
  std::string lock_path = (std::filesystem::path(config_.DataDir) / "apm.lock").string();
  lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd_ < 0 || ::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    return Status::FailedPrecondition("another apm-server is already using DataDir " +
                                      config_.DataDir);
  }
  std::string db_path = (std::filesystem::path(config_.DataDir) / "apm.db").string();
  if (Status s = CheckStoreAtStart(db_path); !s.ok()) return s;
  Result<std::unique_ptr<SqlRequestStore>> opened = SqlRequestStore::Open(db_path);
  if (!opened.ok()) return opened.status();
  sqlite_ = std::move(opened).value();
  LogInfo(
      "store open",
      {{"backend", "sqlite"}, {"path", db_path}, {"schema_version", sqlite_->schema_version()}});
  timed_ = std::make_unique<TimedRequestStore>(*sqlite_, metrics_);
  store_ = std::make_unique<CachingRequestStore>(*timed_);
  return Status::Ok();
}

// Several instances may share the database: no DataDir lock; the lease decides who imports.
Status ServerApp::OpenPostgres() {
  PgOptions pg{.url = config_.DatabaseUrl,
               .statement_timeout_ms = int(config_.DatabaseStatementTimeoutSeconds * 1000)};
  Result<std::unique_ptr<SqlRequestStore>> opened =
      SqlRequestStore::OpenPostgres(pg, {.max_readers = int(config_.DatabasePoolSize)});
  if (!opened.ok()) return opened.status();
  sqlite_ = std::move(opened).value();
  // The URL may hold a password: it is never logged.
  LogInfo("store open", {{"backend", "postgresql"},
                         {"pool", config_.DatabasePoolSize},
                         {"schema_version", sqlite_->schema_version()}});
  timed_ = std::make_unique<TimedRequestStore>(*sqlite_, metrics_);
  store_ = std::make_unique<CachingRequestStore>(*timed_);
  listener_ = std::make_unique<PgChangeListener>(pg, [this] {
    if (watcher_) watcher_->Poke();
  });
  return Status::Ok();
}

HttpServerOptions ServerApp::HttpOptions(TrustedProxies proxies) const {
  HttpServerOptions o;
  o.listen = config_.Listen;
  o.threads = int(config_.Threads);
  o.max_body_bytes = size_t(config_.MaxBodyBytes);
  o.max_connections = size_t(config_.MaxConnections);
  o.max_connections_per_address = size_t(config_.MaxConnectionsPerAddress);
  o.idle_timeout = std::chrono::seconds(config_.IdleTimeoutSeconds);
  o.shutdown_grace = std::chrono::seconds(config_.ShutdownGraceSeconds);
  o.tls_certificate_file = config_.TlsCertificateFile;
  o.tls_key_file = config_.TlsKeyFile;
  o.trusted_proxies = std::move(proxies);
  o.front_door_ids = config_.RequiredFrontDoorId;
  o.uploads = web::WebHandler::Uploads(config_);
  o.uploads.push_back(
      {http::verb::post, std::string(ApiHandler::kDiagnosticsRoute), kMaxDiagnosticsBytes});
  o.access_log = config_.AccessLog;
  return o;
}

Status ServerApp::StartSignIn() {
  if (config_.sign_in_configured()) {
    sign_in_http_ = std::make_unique<CurlOutboundHttp>(CurlOutboundHttp::Options{
        .ca_file = config_.GraphCaFile, .user_agent = std::string("apm-server/") + APM_VERSION});
    auth::OidcSettings sign_in{config_.sign_in_authority(),
                               config_.sign_in_client_id(),
                               config_.sign_in_client_secret(),
                               config_.TenantId,
                               "openid profile",
                               config_.SignInClockSkewSeconds};
    if (config_.sign_in_uses_certificate()) {
      auto signer =
          ClientAssertionSigner::Load(config_.ClientCertificateFile, config_.ClientPrivateKeyFile);
      if (!signer.ok())
        return Status(signer.status().code(), "sign-in: " + signer.status().message());
      sign_in.assertion_signer = std::move(*signer);
    }
    oidc_ = std::make_unique<auth::OidcClient>(*sign_in_http_, clock_, sign_in);
    LogInfo("sign-in on", {{"authority", sign_in.authority},
                           {"client_id", sign_in.client_id},
                           {"approval_mode", config_.ApprovalMode}});
  } else {
    LogWarn(
        "approval pages are off: no sign-in is configured (set the security groups); "
        "approve with `apm-server request approve`");
  }
  return Status::Ok();
}

// What this server enforces, for the audit trail: a change of settings shows up there.
void ServerApp::RecordStart() {
  AuditEvent started;
  started.at = clock_.NowMs();
  started.actor_upn = "system";
  started.action = "config";
  started.detail =
      std::string("started: ") + (config_.ApprovalMode ? "approval mode" : "self-service") +
      ", sign-in " + (oidc_ ? "on (" + config_.sign_in_authority() + ")" : "off") +
      ", general access group " +
      (config_.AuthorizationSecurityGroup.empty() ? "-" : config_.AuthorizationSecurityGroup) +
      ", approver group " +
      (config_.ApproverSecurityGroup.empty() ? "-" : config_.ApproverSecurityGroup) +
      ", viewer group " +
      (config_.ViewerSecurityGroup.empty() ? "-" : config_.ViewerSecurityGroup) +
      ", hash verification " + config_.HashVerification +
      (config_.UseManufacturersFilter ? ", manufacturer allow-list on" : "") +
      (config_.UseModelsFilter ? ", model allow-list on" : "") +
      (config_.UseApprovalUserAsAssignedUser ? ", approving user becomes assigned user" : "");
  if (Status s = sqlite_->AppendAudit(started); !s.ok()) {
    LogWarn("audit event lost", {{"error", s.message()}});
  }
}

Status ServerApp::Start() {
  if (Status s = OpenStore(); !s.ok()) return s;
  Result<TrustedProxies> proxies = TrustedProxies::Parse(config_.TrustedProxies);
  if (!proxies.ok()) return proxies.status();

  limiter_ = std::make_unique<RateLimiter>(clock_, config_.SubmitRatePerMinute,
                                           double(config_.SubmitBurst));
  intake_ = std::make_unique<IntakeService>(config_, *store_, clock_, *limiter_);
  approvals_ = std::make_unique<ApprovalService>(config_, *store_, clock_, sqlite_.get());
  intake_->AuditTo(sqlite_.get());
  if (config_.UseValidationFunction || config_.UseGroupTagFunction ||
      config_.UseAutoApprovalFunction) {
    hooks_http_ = std::make_unique<CurlOutboundHttp>(
        CurlOutboundHttp::Options{.ca_file = "",
                                  .verify_peer = true,
                                  .user_agent = std::string("apm-server/") + APM_VERSION});
    hooks_ = std::make_unique<DecisionHooks>(config_, *hooks_http_);
    intake_->UseDecisionHooks(hooks_.get(), approvals_.get(), sqlite_.get());
    LogInfo("decision functions on", {{"url", config_.AzureFunctionsUrl},
                                      {"validate", config_.UseValidationFunction},
                                      {"grouptag", config_.UseGroupTagFunction},
                                      {"autoapproval", config_.UseAutoApprovalFunction},
                                      {"on_failure", config_.FunctionFailurePolicy}});
  }
  watcher_ = std::make_unique<ChangeWatcher>(*store_, background_, std::chrono::milliseconds(200));
  PosixProgramRunner programs;
  Result<ServedClient> windows_client = PrepareWindowsClient(config_, programs);
  if (!windows_client.ok()) return windows_client.status();
  handler_ = std::make_unique<ApiHandler>(config_, *store_, *sqlite_, *sqlite_, *intake_, *watcher_,
                                          metrics_, blocking_, clock_, std::move(*windows_client));

  if (Status s = watcher_->Start(); !s.ok()) return s;
  if (listener_) listener_->Start();
  if (Status s = StartImportEngine(); !s.ok()) return s;
  StartNotifier();
  if (Status s = StartAuditExport(); !s.ok()) return s;

  if (Status s = StartSignIn(); !s.ok()) return s;
  RecordStart();
  StartStatus();
  web_ = std::make_unique<web::WebHandler>(config_, *store_, *sqlite_, *sqlite_, *approvals_,
                                           *intake_, oidc_.get(), web_graph_.client.get(), *status_,
                                           clock_, blocking_);
  router_ = std::make_unique<PathRouter>(*web_, *handler_);
  metrics_.AddCollector([this](std::string& out) {
    out +=
        "# HELP apm_maintenance_runs_total Runs of expiry and purge by this instance (with "
        "several instances, only the engine's lease holder runs them).\n"
        "# TYPE apm_maintenance_runs_total counter\napm_maintenance_runs_total " +
        std::to_string(maintenance_runs_.load()) + "\n";
  });
  HttpServerOptions main_options = HttpOptions(*proxies);
  if (!config_.HttpRedirectListen.empty()) {
    main_options.descriptors_used_elsewhere = kRedirectConnections;
  }
  http_ = std::make_unique<HttpServer>(main_options, *router_, &metrics_);
  if (Status s = http_->Start(); !s.ok()) return s;
  // Once serving: the checks' calls hold up nothing the server needs.
  if (doctor_) doctor_->Start();
  if (!config_.HttpRedirectListen.empty()) {
    redirect_handler_ = std::make_unique<HttpsRedirectHandler>(config_, http_->port());
    HttpServerOptions plain = HttpOptions(*proxies);
    plain.listen = config_.HttpRedirectListen;
    plain.threads = 1;
    // Redirects are answered at once: a small cap keeps idle connections on port 80 from
    // taking the descriptors https needs.
    plain.max_connections = kRedirectConnections;
    plain.tls_certificate_file.clear();
    plain.tls_key_file.clear();
    redirect_http_ = std::make_unique<HttpServer>(plain, *redirect_handler_, &metrics_);
    if (Status s = redirect_http_->Start(); !s.ok()) return s;
    LogInfo("redirecting plain HTTP to https", {{"address", config_.HttpRedirectListen}});
  }

  maintenance_timer_ = std::make_unique<boost::asio::steady_timer>(background_);
  ScheduleMaintenance(std::chrono::seconds(1));
  if (http_->tls()) {
    tls_files_stamp_ = TlsFilesStamp();
    tls_watch_timer_ = std::make_unique<boost::asio::steady_timer>(background_);
    WatchTlsFiles();
  }
  background_thread_ = std::thread([this] {
    auto guard = boost::asio::make_work_guard(background_);
    background_.run();
  });
  started_ = true;

  std::string scheme = http_->tls() ? "https" : "http";
  LogInfo("listening", {{"address", config_.Listen.substr(0, config_.Listen.rfind(':')) + ":" +
                                        std::to_string(http_->port())},
                        {"scheme", scheme},
                        {"max_connections", http_->max_connections()},
                        {"mode", config_.ApprovalMode ? "approval" : "self_service"},
                        {"hash_verification", config_.HashVerification},
                        {"front_door_check", !config_.RequiredFrontDoorId.empty()}});
  FlushLogs();
  return Status::Ok();
}

void ServerApp::ScheduleMaintenance(std::chrono::seconds delay) {
  maintenance_timer_->expires_after(delay);
  maintenance_timer_->async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    RunMaintenance();
    ScheduleMaintenance(std::chrono::seconds(config_.MaintenanceIntervalSeconds));
  });
}

void ServerApp::ReloadTls(const char* reason) {
  if (!http_ || !http_->tls()) {
    LogInfo("nothing to reload: TLS is not configured", {{"reason", reason}});
    return;
  }
  if (Status s = http_->ReloadTls(); !s.ok()) {
    LogWarn("TLS certificate not reloaded; the previous one is still served",
            {{"reason", reason}, {"error", s.message()}});
    return;
  }
  LogInfo("TLS certificate reloaded",
          {{"reason", reason}, {"certificate_file", config_.TlsCertificateFile}});
}

std::string ServerApp::TlsFilesStamp() const {
  std::string stamp;
  for (const std::string& path : {config_.TlsCertificateFile, config_.TlsKeyFile}) {
    struct stat info {};
    if (stat(path.c_str(), &info) != 0) return "missing";
    // The inode too: certbot and cert-manager replace files by renaming new ones into place.
    stamp += std::to_string(info.st_ino) + ":" + std::to_string(info.st_size) + ":" +
             std::to_string(info.st_mtim.tv_sec) + "." + std::to_string(info.st_mtim.tv_nsec) + ";";
  }
  return stamp;
}

void ServerApp::WatchTlsFiles() {
  tls_watch_timer_->expires_after(kTlsWatchInterval);
  tls_watch_timer_->async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    // One attempt per change: a pair of files that stays broken is reported once.
    if (std::string stamp = TlsFilesStamp(); stamp != tls_files_stamp_ && stamp != "missing") {
      tls_files_stamp_ = stamp;
      ReloadTls("the certificate or key file changed");
    }
    WatchTlsFiles();
  });
}

void ServerApp::RunMaintenance() {
  limiter_->Sweep();
  if (web_) web_->Maintain();
  if (handler_) handler_->Maintain();
  // /metrics only reads what is cached; a failed read keeps the last figures.
  if (status_) (void)status_->Snapshot();

  // Expiry and purge change shared state: the instance holding the engine's lease runs them.
  if (lease_ && !lease_->current()) return;  // current: a paused holder does not sweep
  ++maintenance_runs_;
  int64_t now = clock_.NowMs();
  Result<int64_t> expired = store_->ExpirePending(now);
  if (!expired.ok()) {
    LogWarn("expiry failed", {{"error", expired.status().ToString()}});
  } else if (*expired > 0) {
    LogInfo("requests expired", {{"count", *expired}});
    watcher_->Poke();
  }
  Result<int64_t> sessions = sqlite_->PurgeSessions(
      now - config_.SessionIdleMinutes * 60'000, now - config_.SessionMaxHours * 3'600'000,
      now - 10 * 60'000);  // a sign-in is finished within ten minutes or not at all
  if (!sessions.ok()) LogWarn("session purge failed", {{"error", sessions.status().ToString()}});
  // The audit trail is kept as long as the history it explains.
  // What the export has not delivered yet stays (the export's metrics show it waiting).
  Result<int64_t> audit =
      sqlite_->PurgeAuditBefore(now - config_.HistoryDays * 86'400'000, config_.UseLogAnalytics);
  if (!audit.ok()) LogWarn("audit purge failed", {{"error", audit.status().ToString()}});
  // Events are sent within seconds; a day of them is kept for a look.
  Result<int64_t> events = sqlite_->PurgeEventsBefore(now - 86'400'000);
  if (!events.ok()) LogWarn("event purge failed", {{"error", events.status().ToString()}});
  Result<int64_t> purged = store_->PurgeFinishedBefore(now - config_.HistoryDays * 86'400'000);
  if (!purged.ok()) {
    LogWarn("purge failed", {{"error", purged.status().ToString()}});
  } else if (*purged > 0) {
    LogInfo("finished requests purged",
            {{"count", *purged}, {"history_days", config_.HistoryDays}});
  }
}

void ServerApp::StartNotifier() {
  if (config_.NotificationWebhookUrl.empty() && config_.NotificationTeamsUrl.empty()) return;
  notify_http_ = std::make_unique<CurlOutboundHttp>(CurlOutboundHttp::Options{
      .ca_file = "", .verify_peer = true, .user_agent = std::string("apm-server/") + APM_VERSION});
  NotifierSettings settings{config_.NotificationWebhookUrl,    config_.NotificationWebhookSecret,
                            config_.NotificationWebhookEvents, config_.NotificationTeamsUrl,
                            config_.NotificationTeamsEvents,   config_.PublicUrl};
  notifier_ =
      std::make_unique<Notifier>(std::move(settings), *sqlite_, *store_, *notify_http_, clock_);
  metrics_.AddCollector([this](std::string& out) {
    AppendMetric(out, "apm_notifications_delivered_total", "counter",
                 "Notifications a channel acknowledged (sent by this instance).",
                 int64_t(notifier_->delivered()));
    AppendMetric(out, "apm_notifications_failed_attempts_total", "counter",
                 "Notification attempts without a 2xx answer (each is retried).",
                 int64_t(notifier_->failed_attempts()));
    AppendMetric(out, "apm_notifications_given_up_total", "counter",
                 "Notifications given up after the last retry or a 410.",
                 int64_t(notifier_->given_up()));
    AppendMetric(out, "apm_notifications_waiting", "gauge",
                 "Notifications waiting to be delivered (as of the notifier's last round).",
                 notifier_->waiting());
  });
  // One sender: the instance that holds the engine's lease (the only one on SQLite).
  notifier_->Start([this] { return !lease_ || lease_->current(); });
  LogInfo("notifications on", {{"webhook", !config_.NotificationWebhookUrl.empty()},
                               {"teams", !config_.NotificationTeamsUrl.empty()}});
}

Status ServerApp::StartAuditExport() {
  if (!config_.UseLogAnalytics) return Status::Ok();
  audit_http_ = std::make_unique<CurlOutboundHttp>(CurlOutboundHttp::Options{
      .ca_file = config_.GraphCaFile, .user_agent = std::string("apm-server/") + APM_VERSION});
  AppCredentials credentials = GraphCredentials(config_);
  credentials.scope = kMonitorScope;
  auto tokens = ClientCredentialsTokenSource::Create(credentials, *audit_http_, clock_);
  if (!tokens.ok()) return tokens.status();
  audit_tokens_ = std::move(tokens).value();
  AuditExportSettings settings{config_.LogsIngestionEndpoint, config_.LogsIngestionRuleId,
                               config_.LogsIngestionStream, config_.LogAnalyticsReportHardwareHash};
  auditor_ = std::make_unique<AuditExporter>(std::move(settings), *sqlite_, *store_, *audit_http_,
                                             *audit_tokens_, clock_);
  metrics_.AddCollector([this](std::string& out) {
    AppendMetric(out, "apm_audit_exported_total", "counter",
                 "Audit events Azure Monitor acknowledged (this instance).",
                 int64_t(auditor_->exported()));
    AppendMetric(out, "apm_audit_export_failed_calls_total", "counter",
                 "Logs Ingestion calls without a 2xx.", int64_t(auditor_->failed_calls()));
  });
  auditor_->Start([this] { return !lease_ || lease_->current(); });
  LogInfo("audit export on", {{"endpoint", config_.LogsIngestionEndpoint},
                              {"rule", config_.LogsIngestionRuleId},
                              {"stream", config_.LogsIngestionStream},
                              {"hash", config_.LogAnalyticsReportHardwareHash}});
  return Status::Ok();
}

void ServerApp::Shutdown() {
  if (!started_) return;
  started_ = false;
  LogInfo("shutting down: draining connections");
  // Submissions waiting on a decision function get their answer (no answer: 503) at once.
  if (hooks_http_) hooks_http_->Cancel();
  if (doctor_) doctor_->Stop();
  // Also answers waiting long-polls (ApiHandler::OnShutdown); submissions still running on the
  // blocking pool finish and reply before the HTTP workers stop.
  if (redirect_http_) redirect_http_->Shutdown();
  http_->Shutdown([this] { blocking_.join(); });
  boost::asio::post(background_, [this] {
    maintenance_timer_->cancel();
    if (tls_watch_timer_) tls_watch_timer_->cancel();
  });
  background_.stop();
  if (background_thread_.joinable()) background_thread_.join();
  if (notifier_) notifier_->RequestStop();
  if (notify_http_) notify_http_->Cancel();
  if (notifier_) notifier_->Stop();
  if (auditor_) auditor_->RequestStop();
  if (audit_http_) audit_http_->Cancel();
  if (auditor_) auditor_->Stop();
  // Stops the engine (if this instance runs it) and gives the lease to another instance.
  if (lease_) {
    lease_->Stop();
  } else {
    StopEngineTerm();
  }
  if (web_graph_.client) web_graph_.client->Stop();
  if (web_graph_.http) web_graph_.http->Cancel();
  if (listener_) listener_->Stop();
  sqlite_->Close();
  LogInfo("stopped");
  FlushLogs();
}

}  // namespace apm
