// apm-server assembled: store, services, HTTP server and the maintenance timer.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <memory>
#include <thread>

#include "server/api_handler.h"
#include "server/approval_service.h"
#include "server/auth/oidc_client.h"
#include "server/change_watcher.h"
#include "server/clock.h"
#include "server/config.h"
#include "server/decision_hooks.h"
#include "server/doctor/background_doctor.h"
#include "server/graph/graph_client.h"
#include "server/graph/token_source.h"
#include "server/http/curl_outbound_http.h"
#include "server/http/http_server.h"
#include "server/http/https_redirect.h"
#include "server/importer/import_engine.h"
#include "server/importer/registration_check.h"
#include "server/intake_service.h"
#include "server/lease_keeper.h"
#include "server/metrics.h"
#include "server/notify/audit_export.h"
#include "server/notify/notifier.h"
#include "server/rate_limiter.h"
#include "server/status/service_status.h"
#include "server/store/caching_request_store.h"
#include "server/store/pg_change_listener.h"
#include "server/store/sql_request_store.h"
#include "server/store/timed_request_store.h"
#include "server/web/web_handler.h"

namespace apm {

class ServerApp {
 public:
  explicit ServerApp(Config config);
  ~ServerApp();

  // Opens the store (applying migrations), binds and starts serving.
  Status Start();
  // Graceful shutdown; closes the store last.
  void Shutdown();
  // The port the server listens on (after Start; Listen may ask for any free one).
  uint16_t port() const { return http_ ? http_->port() : 0; }
  // Connections the server holds now (the fuzz harness reports it when a check fails).
  size_t open_connections() const { return http_ ? http_->open_connections() : 0; }

  // One expiry-and-purge pass (normally run by the timer).
  void RunMaintenance();
  // Reads the TLS certificate and key again (on SIGHUP, or when their files change); open
  // connections keep the old ones. Logs the outcome; a failure keeps the old ones served.
  void ReloadTls(const char* reason);

 private:
  // Microsoft Graph: a token source and a client with its own budget.
  struct GraphStack {
    std::unique_ptr<CurlOutboundHttp> http;
    std::unique_ptr<ClientCredentialsTokenSource> tokens;
    std::unique_ptr<GraphClient> client;
  };
  Result<GraphStack> BuildGraph();
  void ScheduleMaintenance(std::chrono::seconds delay);
  // Checks the TLS files every kTlsWatchInterval and reloads them when they changed.
  void WatchTlsFiles();
  std::string TlsFilesStamp() const;  // inode, size and mtime of both, "missing" if one is
  static constexpr std::chrono::seconds kTlsWatchInterval{5};
  // Graph for the pages, and the lease that decides which instance runs the engine.
  Status StartImportEngine();
  // Called by the lease keeper: this instance runs the import engine and the registration
  // lookups while it holds the lease (server_engine.cc). False when the engine could not start
  // (its Graph credentials no longer load): the keeper then lets another instance have it.
  bool StartEngineTerm(const LeaseGrant& grant);
  void StopEngineTerm();
  void AddEngineMetrics();
  // The data directory, its lock (one server per directory) and the store stack.
  Status OpenStore();
  Status OpenPostgres();
  HttpServerOptions HttpOptions(TrustedProxies proxies) const;
  // The OpenID Connect client, when sign-in is configured.
  Status StartSignIn();
  void RecordStart();
  // The status page's sources, and the background set-up checks (started once serving;
  // server_status.cc).
  void StartStatus();

  Config config_;
  SystemClock clock_;
  Metrics metrics_;
  std::unique_ptr<SqlRequestStore> sqlite_;
  std::unique_ptr<TimedRequestStore> timed_;
  std::unique_ptr<CachingRequestStore> store_;
  std::unique_ptr<RateLimiter> limiter_;
  std::unique_ptr<IntakeService> intake_;
  boost::asio::io_context background_{1};
  // Threads that may block on the store's commits (submissions), so I/O threads never do. As
  // many submissions as wait here can share one group commit: 8 capped PostgreSQL at ~1,360/s,
  // 32 gave ~2,700/s (docs/performance.md#postgresql).
  boost::asio::thread_pool blocking_{32};
  std::unique_ptr<boost::asio::steady_timer> maintenance_timer_;
  std::atomic<int64_t> maintenance_runs_{0};  // expiry and purge runs, for /metrics
  std::unique_ptr<boost::asio::steady_timer> tls_watch_timer_;
  std::string tls_files_stamp_;  // TlsFilesStamp() at the last load (background_ thread)
  std::unique_ptr<ChangeWatcher> watcher_;
  std::unique_ptr<ApiHandler> handler_;
  std::unique_ptr<ApprovalService> approvals_;
  std::unique_ptr<CurlOutboundHttp> sign_in_http_;
  // The customer's decision functions (AzureFunctionsUrl), when any is on.
  std::unique_ptr<CurlOutboundHttp> hooks_http_;
  std::unique_ptr<DecisionHooks> hooks_;
  std::unique_ptr<auth::OidcClient> oidc_;
  std::unique_ptr<BackgroundDoctor> doctor_;  // null when DoctorIntervalHours = 0 or no Graph
  std::unique_ptr<ServiceStatus> status_;
  std::unique_ptr<web::WebHandler> web_;
  std::unique_ptr<HttpHandler> router_;  // pages to web_, the rest to handler_
  std::unique_ptr<HttpServer> http_;
  // HttpRedirectListen: plain HTTP that only redirects to https.
  std::unique_ptr<HttpsRedirectHandler> redirect_handler_;
  std::unique_ptr<HttpServer> redirect_http_;
  static constexpr size_t kRedirectConnections = 512;
  // PostgreSQL: wakes long-polls when another instance changes a request.
  std::unique_ptr<PgChangeListener> listener_;
  // Graph for the pages' lookups (only with a tenant configured).
  GraphStack web_graph_;
  // Which instance runs the engine, expiry and purge (always this one on SQLite).
  std::unique_ptr<LeaseKeeper> lease_;
  // After lease_: their threads ask it, so they stop before it goes.
  // Event notifications (NotificationWebhookUrl, NotificationTeamsUrl), when any is set.
  std::unique_ptr<CurlOutboundHttp> notify_http_;
  std::unique_ptr<Notifier> notifier_;
  void StartNotifier();
  // The audit trail's export to Azure Monitor (UseLogAnalytics).
  std::unique_ptr<CurlOutboundHttp> audit_http_;
  std::unique_ptr<TokenSource> audit_tokens_;
  std::unique_ptr<AuditExporter> auditor_;
  Status StartAuditExport();
  // The import engine while this instance holds the lease: built when taken, torn down when
  // lost, with a Graph client of its own (whose budget it alone spends).
  std::mutex engine_mu_;  // guards the engine_* members' replacement, for the metrics
  GraphStack engine_graph_;
  std::unique_ptr<boost::asio::thread_pool> import_pool_;
  std::unique_ptr<ImportEngine> engine_;
  std::unique_ptr<RegistrationChecker> registrations_;  // looks up existing registrations
  int64_t engine_stopped_at_ = 0;  // ms; when this process's last engine term ended
  std::thread background_thread_;
  bool started_ = false;
  int lock_fd_ = -1;  // flock on DataDir/apm.lock, held for the process's life
};

}  // namespace apm
