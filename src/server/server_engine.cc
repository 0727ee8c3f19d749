// ServerApp's import engine: Graph clients and, on PostgreSQL, the lease that makes exactly one
// instance run the engine and the registration lookups (docs/deployment-several-instances.md).
#include <boost/asio/post.hpp>

#include <algorithm>

#include "server/graph_settings.h"
#include "server/logging.h"
#include "server/server_app.h"

namespace apm {

Result<ServerApp::GraphStack> ServerApp::BuildGraph() {
  GraphStack g;
  g.http = std::make_unique<CurlOutboundHttp>(CurlOutboundHttp::Options{
      .ca_file = config_.GraphCaFile, .user_agent = std::string("apm-server/") + APM_VERSION});
  auto tokens = ClientCredentialsTokenSource::Create(GraphCredentials(config_), *g.http, clock_);
  if (!tokens.ok()) return tokens.status();
  g.tokens = std::move(tokens).value();
  GraphClient::Options graph_options = GraphClientOptions(config_);
  g.client = std::make_unique<GraphClient>(graph_options, *g.http, *g.tokens, clock_);
  return g;
}

Status ServerApp::StartImportEngine() {
  if (!config_.graph_configured()) {
    LogWarn("imports are off: no TenantId is configured; approved requests wait");
  } else {
    // Built once here so that a bad certificate or key stops the start, not a later term.
    Result<GraphStack> web = BuildGraph();
    if (!web.ok()) return web.status();
    web_graph_ = std::move(web).value();
    AddEngineMetrics();
  }
  if (sqlite_->dialect() == SqlDialect::kSqlite) {
    StartEngineTerm({});  // the DataDir lock already makes this the only instance
    return Status::Ok();
  }
  LeaseKeeper::Options lease{.name = "engine",
                             .holder = RandomInstanceName(),
                             .ttl = std::chrono::seconds(config_.EngineFailoverSeconds)};
  sqlite_->FenceJobsWith(lease.name, lease.holder);
  lease_ = std::make_unique<LeaseKeeper>(
      *sqlite_, lease, [this](const LeaseGrant& grant) { return StartEngineTerm(grant); },
      [this] { StopEngineTerm(); });
  lease_->Start();
  return Status::Ok();
}

bool ServerApp::StartEngineTerm(const LeaseGrant& grant) {
  if (!config_.graph_configured()) return true;  // nothing to run; expiry and purge still do
  Result<GraphStack> graph = BuildGraph();
  if (!graph.ok()) {
    LogError("import engine not started", {{"error", graph.status().ToString()}});
    return false;
  }
  // The previous engine, here (a term that ended when the database was away) or on another
  // instance (it stops before its lease ends), may have spent the tenant's budget; Graph
  // counts that for one more window.
  int64_t spent_at = engine_stopped_at_;
  if (grant.from_other) spent_at = std::max(spent_at, clock_.NowMs() + grant.other_until_ms);
  if (spent_at > 0) {
    (*graph).client->AssumeSpentAt(spent_at);
    LogInfo("engine taken over: Graph calls wait for the previous engine's window",
            {{"previous_engine_ended_ms_ago", clock_.NowMs() - spent_at}});
  }
  if (lease_) (*graph).client->SetSendGate([this] { return lease_->current(); });
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
  std::lock_guard lock(engine_mu_);
  engine_graph_ = std::move(graph).value();
  import_pool_ = std::make_unique<boost::asio::thread_pool>(size_t(config_.ImportWorkers));
  engine_ = std::make_unique<ImportEngine>(
      *store_, *engine_graph_.client, clock_, settings,
      [this](std::function<void()> work) { boost::asio::post(*import_pool_, std::move(work)); });
  engine_->SetChangeListener([this] { watcher_->Poke(); });
  engine_->Start();
  registrations_ = std::make_unique<RegistrationChecker>(*store_, *engine_graph_.client, clock_);
  registrations_->Start();
  LogInfo("import engine started",
          {{"tenant", config_.TenantId},
           {"graph", config_.GraphEndpoint},
           {"auth", config_.ClientSecret.empty() ? "certificate" : "secret"},
           {"profile_group", settings.profile_group_id}});
  return true;
}

// Calls in flight end at once; each job resumes from its last saved step on whichever
// instance runs the engine next (a cut-off import is reconciled, never sent twice).
void ServerApp::StopEngineTerm() {
  if (!engine_) return;
  engine_graph_.client->Stop();
  engine_graph_.http->Cancel();
  engine_->Stop();
  registrations_->Stop();
  import_pool_->join();
  std::lock_guard lock(engine_mu_);
  registrations_.reset();
  engine_.reset();
  import_pool_.reset();
  engine_graph_ = GraphStack{};
  engine_stopped_at_ = clock_.NowMs();
  LogInfo("import engine stopped");
}

namespace {

// The engine's budgets now: each family's lines together, as the text format wants.
void AppendGraphBudget(std::string& out, GraphClient& graph) {
  const std::pair<const char*, GraphClient::BudgetUse> apis[] = {
      {"intune", graph.IntuneBudget()}, {"directory", graph.DirectoryBudget()}};
  out +=
      "# HELP apm_graph_budget_used Slots of the engine's Graph budget used in the current "
      "window.\n# TYPE apm_graph_budget_used gauge\n";
  for (const auto& [api, use] : apis) {
    const std::string labels = std::string("{api=\"") + api + "\",kind=";
    out += "apm_graph_budget_used" + labels + "\"writes\"} " + std::to_string(use.used.writes) +
           "\napm_graph_budget_used" + labels + "\"requests\"} " +
           std::to_string(use.used.requests) + "\n";
  }
  out +=
      "# HELP apm_graph_budget_limit The engine's Graph budget per window.\n"
      "# TYPE apm_graph_budget_limit gauge\n";
  for (const auto& [api, use] : apis) {
    const std::string labels = std::string("{api=\"") + api + "\",kind=";
    out += "apm_graph_budget_limit" + labels + "\"writes\"} " +
           std::to_string(use.limits.writes_per_window) + "\napm_graph_budget_limit" + labels +
           "\"requests\"} " + std::to_string(use.limits.requests_per_window) + "\n";
  }
}

}  // namespace

void ServerApp::AddEngineMetrics() {
  metrics_.AddCollector([this](std::string& out) {
    std::lock_guard lock(engine_mu_);
    GraphClient* graph = engine_graph_.client.get();
    AppendMetric(out, "apm_engine_lease_held", "gauge",
                 "1 while this instance runs the import engine (holds the lease).",
                 engine_ ? 1 : 0);
    AppendMetric(
        out, "apm_graph_http_requests_total", "counter",
        "HTTP requests sent to Microsoft Graph by the engine ($batch envelopes count once).",
        graph ? graph->http_requests() : 0);
    AppendMetric(out, "apm_graph_operations_total", "counter",
                 "Graph operations, $batch members counted (what Graph throttles).",
                 graph ? graph->operations() : 0);
    AppendMetric(out, "apm_graph_throttled_total", "counter",
                 "Answers 429 from Graph although the budget allowed the call (someone else "
                 "spends this app's quota).",
                 graph ? graph->throttled() : 0);
    if (graph) AppendGraphBudget(out, *graph);
    AppendMetric(out, "apm_graph_token_requests_total", "counter",
                 "Token requests sent to Entra ID.",
                 engine_graph_.tokens ? engine_graph_.tokens->fetches() : 0);
    AppendMetric(out, "apm_import_jobs_active", "gauge", "Import jobs the engine is advancing.",
                 engine_ ? int64_t(engine_->active_jobs()) : 0);
    // From the store (the same on every instance), past the timing wrapper: it records into
    // the registry that is rendering now.
    Result<int64_t> deletions = sqlite_->PendingImportDeletions();
    if (deletions.ok()) {
      AppendMetric(out, "apm_import_record_deletions_pending", "gauge",
                   "Import records whose jobs moved on, waiting to be deleted in the background.",
                   *deletions);
    }
  });
}

}  // namespace apm
