// apm-server assembled: store, services, HTTP server and the maintenance timer.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>

#include <memory>
#include <thread>

#include "server/api_handler.h"
#include "server/approval_service.h"
#include "server/auth/oidc_client.h"
#include "server/change_watcher.h"
#include "server/clock.h"
#include "server/config.h"
#include "server/graph/graph_client.h"
#include "server/graph/token_source.h"
#include "server/http/curl_outbound_http.h"
#include "server/http/http_server.h"
#include "server/importer/import_engine.h"
#include "server/importer/registration_check.h"
#include "server/intake_service.h"
#include "server/metrics.h"
#include "server/rate_limiter.h"
#include "server/store/caching_request_store.h"
#include "server/store/sqlite_request_store.h"
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

  // One expiry-and-purge pass (normally run by the timer).
  void RunMaintenance();

 private:
  void ScheduleMaintenance(std::chrono::seconds delay);
  Status StartImportEngine();
  // The data directory, its lock (one server per directory) and the store stack.
  Status OpenStore();
  HttpServerOptions HttpOptions(TrustedProxies proxies) const;
  // The OpenID Connect client, when sign-in is configured.
  void StartSignIn();
  void RecordStart();

  Config config_;
  SystemClock clock_;
  Metrics metrics_;
  std::unique_ptr<SqliteRequestStore> sqlite_;
  std::unique_ptr<TimedRequestStore> timed_;
  std::unique_ptr<CachingRequestStore> store_;
  std::unique_ptr<RateLimiter> limiter_;
  std::unique_ptr<IntakeService> intake_;
  boost::asio::io_context background_{1};
  // Threads that may block on the store's commits (submissions), so I/O threads never do.
  boost::asio::thread_pool blocking_{8};
  std::unique_ptr<boost::asio::steady_timer> maintenance_timer_;
  std::unique_ptr<ChangeWatcher> watcher_;
  std::unique_ptr<ApiHandler> handler_;
  std::unique_ptr<ApprovalService> approvals_;
  std::unique_ptr<CurlOutboundHttp> sign_in_http_;
  std::unique_ptr<auth::OidcClient> oidc_;
  std::unique_ptr<web::WebHandler> web_;
  std::unique_ptr<HttpHandler> router_;  // pages to web_, the rest to handler_
  std::unique_ptr<HttpServer> http_;
  // The import engine (only with a tenant configured).
  std::unique_ptr<CurlOutboundHttp> graph_http_;
  std::unique_ptr<ClientCredentialsTokenSource> tokens_;
  std::unique_ptr<GraphClient> graph_;
  std::unique_ptr<boost::asio::thread_pool> import_pool_;
  std::unique_ptr<ImportEngine> engine_;
  std::unique_ptr<RegistrationChecker> registrations_;  // looks up existing registrations
  std::thread background_thread_;
  bool started_ = false;
  int lock_fd_ = -1;  // flock on DataDir/apm.lock, held for the process's life
};

}  // namespace apm
