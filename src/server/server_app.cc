#include "server/server_app.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>

#include "server/logging.h"

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

Status ServerApp::OpenStore() {
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
  Result<std::unique_ptr<SqliteRequestStore>> opened = SqliteRequestStore::Open(db_path);
  if (!opened.ok()) return opened.status();
  sqlite_ = std::move(opened).value();
  LogInfo("store open", {{"path", db_path}, {"schema_version", sqlite_->schema_version()}});
  timed_ = std::make_unique<TimedRequestStore>(*sqlite_, metrics_);
  store_ = std::make_unique<CachingRequestStore>(*timed_);

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
  o.access_log = config_.AccessLog;
  return o;
}

void ServerApp::StartSignIn() {
  if (config_.sign_in_configured()) {
    sign_in_http_ = std::make_unique<CurlOutboundHttp>(CurlOutboundHttp::Options{
        .ca_file = config_.GraphCaFile, .user_agent = std::string("apm-server/") + APM_VERSION});
    auth::OidcSettings sign_in{config_.sign_in_authority(),
                               config_.sign_in_client_id(),
                               config_.sign_in_client_secret(),
                               config_.TenantId,
                               "openid profile",
                               config_.SignInClockSkewSeconds};
    oidc_ = std::make_unique<auth::OidcClient>(*sign_in_http_, clock_, sign_in);
    LogInfo("sign-in on", {{"authority", sign_in.authority},
                           {"client_id", sign_in.client_id},
                           {"approval_mode", config_.ApprovalMode}});
  } else {
    LogWarn(
        "approval pages are off: no sign-in is configured (set the security groups); "
        "approve with `apm-server request approve`");
  }
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
  watcher_ = std::make_unique<ChangeWatcher>(*store_, background_, std::chrono::milliseconds(200));
  handler_ =
      std::make_unique<ApiHandler>(config_, *store_, *intake_, *watcher_, metrics_, blocking_);

  if (Status s = watcher_->Start(); !s.ok()) return s;
  if (Status s = StartImportEngine(); !s.ok()) return s;

  approvals_ = std::make_unique<ApprovalService>(config_, *store_, clock_, sqlite_.get());
  StartSignIn();
  RecordStart();
  web_ = std::make_unique<web::WebHandler>(config_, *store_, *sqlite_, *approvals_, oidc_.get(),
                                           graph_.get(), clock_, blocking_);
  router_ = std::make_unique<PathRouter>(*web_, *handler_);
  http_ = std::make_unique<HttpServer>(HttpOptions(*proxies), *router_, &metrics_);
  if (Status s = http_->Start(); !s.ok()) return s;

  maintenance_timer_ = std::make_unique<boost::asio::steady_timer>(background_);
  ScheduleMaintenance(std::chrono::seconds(1));
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
                        {"hash_verification", config_.HashVerification}});
  FlushLogs();
  return Status::Ok();
}

Status ServerApp::StartImportEngine() {
  if (!config_.graph_configured()) {
    LogWarn("imports are off: no TenantId is configured; approved requests wait");
    return Status::Ok();
  }
  graph_http_ = std::make_unique<CurlOutboundHttp>(CurlOutboundHttp::Options{
      .ca_file = config_.GraphCaFile, .user_agent = std::string("apm-server/") + APM_VERSION});
  AppCredentials credentials;
  credentials.login_endpoint = config_.LoginEndpoint;
  credentials.tenant = config_.TenantId;
  credentials.client_id = config_.ClientId;
  credentials.client_secret = config_.ClientSecret;
  credentials.certificate_file = config_.ClientCertificateFile;
  credentials.private_key_file = config_.ClientPrivateKeyFile;
  auto tokens = ClientCredentialsTokenSource::Create(credentials, *graph_http_, clock_);
  if (!tokens.ok()) return tokens.status();
  tokens_ = std::move(tokens).value();
  GraphClient::Options graph_options;
  graph_options.endpoint = config_.GraphEndpoint;
  graph_options.intune_limits.writes_per_window = int(config_.GraphWritesPer20Seconds);
  graph_options.intune_limits.requests_per_window = int(config_.GraphRequestsPer20Seconds);
  graph_ = std::make_unique<GraphClient>(graph_options, *graph_http_, *tokens_, clock_);

  ImportSettings settings;
  if (config_.UseAutopilotProfileGroup) settings.profile_group_id = config_.AutopilotProfileGroup;
  settings.wait_for_profile = config_.WaitForProfileAssignment;
  settings.max_active_jobs = int(config_.MaxActiveImports);
  auto ms = [](double seconds) { return std::chrono::milliseconds(int64_t(seconds * 1000)); };
  settings.poll_min = ms(config_.ImportPollMinSeconds);
  settings.poll_max = ms(config_.ImportPollMaxSeconds);
  settings.reconcile_settle = ms(config_.ImportReconcileDelaySeconds);
  settings.import_deadline = std::chrono::minutes(config_.ImportStepTimeoutMinutes);
  settings.sync_deadline = std::chrono::minutes(config_.SyncStepTimeoutMinutes);
  settings.group_deadline = std::chrono::minutes(config_.GroupStepTimeoutMinutes);
  settings.profile_deadline = std::chrono::minutes(config_.ProfileStepTimeoutMinutes);
  import_pool_ = std::make_unique<boost::asio::thread_pool>(size_t(config_.ImportWorkers));
  engine_ = std::make_unique<ImportEngine>(
      *store_, *graph_, clock_, settings,
      [this](std::function<void()> work) { boost::asio::post(*import_pool_, std::move(work)); });
  engine_->SetChangeListener([this] { watcher_->Poke(); });
  metrics_.AddCollector([this](std::string& out) {
    auto line = [&](const char* name, const char* type, const char* help, int64_t value) {
      out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" +
             name + " " + std::to_string(value) + "\n";
    };
    line("apm_graph_http_requests_total", "counter",
         "HTTP requests sent to Microsoft Graph ($batch envelopes count once).",
         graph_->http_requests());
    line("apm_graph_operations_total", "counter",
         "Graph operations, $batch members counted (what Graph throttles).", graph_->operations());
    line("apm_graph_token_requests_total", "counter", "Token requests sent to Entra ID.",
         tokens_->fetches());
    line("apm_import_jobs_active", "gauge", "Import jobs the engine is advancing.",
         int64_t(engine_->active_jobs()));
  });
  engine_->Start();
  registrations_ = std::make_unique<RegistrationChecker>(*store_, *graph_, clock_);
  registrations_->Start();
  LogInfo("import engine started",
          {{"tenant", config_.TenantId},
           {"graph", config_.GraphEndpoint},
           {"auth", config_.ClientSecret.empty() ? "certificate" : "secret"},
           {"profile_group", settings.profile_group_id}});
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

void ServerApp::RunMaintenance() {
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
  Result<int64_t> audit = sqlite_->PurgeAuditBefore(now - config_.HistoryDays * 86'400'000);
  if (!audit.ok()) LogWarn("audit purge failed", {{"error", audit.status().ToString()}});
  Result<int64_t> purged = store_->PurgeFinishedBefore(now - config_.HistoryDays * 86'400'000);
  if (!purged.ok()) {
    LogWarn("purge failed", {{"error", purged.status().ToString()}});
  } else if (*purged > 0) {
    LogInfo("finished requests purged",
            {{"count", *purged}, {"history_days", config_.HistoryDays}});
  }
  limiter_->Sweep();
  if (web_) web_->Maintain();
}

void ServerApp::Shutdown() {
  if (!started_) return;
  started_ = false;
  LogInfo("shutting down: draining connections");
  // Also answers waiting long-polls (ApiHandler::OnShutdown); submissions still running on the
  // blocking pool finish and reply before the HTTP workers stop.
  http_->Shutdown([this] { blocking_.join(); });
  boost::asio::post(background_, [this] { maintenance_timer_->cancel(); });
  background_.stop();
  if (background_thread_.joinable()) background_thread_.join();
  // Waits for the budget and calls in flight end at once; each job resumes from its last saved
  // step at the next start (a cut-off import is reconciled).
  if (graph_) graph_->Stop();
  if (graph_http_) graph_http_->Cancel();
  if (engine_) engine_->Stop();
  if (registrations_) registrations_->Stop();
  if (import_pool_) import_pool_->join();
  sqlite_->Close();
  LogInfo("stopped");
  FlushLogs();
}

}  // namespace apm
