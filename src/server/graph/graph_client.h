// GraphApi over HTTP: app-only tokens, the per-tenant request budget, retries with backoff
// (Retry-After on 429), `$batch` of up to 20 sub-requests, and `@odata.nextLink` paging.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>

#include <nlohmann/json.hpp>

#include "server/clock.h"
#include "server/graph/graph_api.h"
#include "server/graph/request_budget.h"
#include "server/graph/retry_policy.h"
#include "server/graph/token_source.h"
#include "server/http/outbound_http.h"

namespace apm {

class GraphClient : public GraphApi {
 public:
  struct Options {
    std::string endpoint = "https://graph.microsoft.com";
    RetryPolicy::Options retry;
    // Intune (deviceManagement) and directory (devices, groups) are throttled separately.
    RequestBudget::Limits intune_limits;
    RequestBudget::Limits directory_limits{.writes_per_window = 200,
                                           .requests_per_window = 2000,
                                           .window = std::chrono::milliseconds(20'000),
                                           .slack = std::chrono::milliseconds(1'000)};
    std::chrono::milliseconds timeout{30'000};
  };
  // Waits; false when the wait was cut short because the client is stopping.
  using Sleep = std::function<bool(std::chrono::milliseconds)>;
  using Uniform = std::function<int64_t(int64_t)>;

  // `sleep` waits (tests advance a ManualClock instead; the default ends early on Stop());
  // `uniform(n)` draws from [0, n].
  GraphClient(Options options, OutboundHttp& http, TokenSource& tokens, const Clock& clock,
              Sleep sleep = {}, Uniform uniform = {});

  Result<std::vector<ImportRecord>> Import(std::span<const ImportItem> items) override;
  Result<std::vector<ImportRecord>> FindImports(const std::string& serial) override;
  Result<std::vector<ImportRecord>> ListImports() override;
  std::vector<Result<std::optional<ImportRecord>>> GetImports(
      std::span<const std::string> ids) override;
  std::vector<Status> DeleteImports(std::span<const std::string> ids) override;
  bool HasSpareWrites() override;
  std::vector<Result<std::optional<AutopilotDevice>>> GetAutopilotDevices(
      std::span<const std::string> ids) override;
  std::vector<Result<std::optional<EntraDevice>>> FindEntraDevices(
      std::span<const std::string> device_ids) override;
  std::vector<Status> AddGroupMembers(const std::string& group_id,
                                      std::span<const std::string> object_ids) override;
  Status UpdateDeviceProperties(const std::string& autopilot_id, const std::string& display_name,
                                const std::string& user_principal_name,
                                const std::string& group_tag) override;
  Status SyncAutopilot() override;
  Result<std::vector<std::string>> GetMemberObjects(const std::string& user_id) override;
  // The repair path (graph_client_repair.cc).
  Result<std::vector<AutopilotDevice>> FindAutopilotDevices(const std::string& serial) override;
  Result<std::vector<AutopilotDevice>> ListAutopilotDevices() override;
  std::vector<Result<std::optional<ManagedDevice>>> GetManagedDevices(
      std::span<const std::string> ids) override;
  std::vector<Status> DeleteManagedDevices(std::span<const std::string> ids) override;
  std::vector<Status> DeleteAutopilotDevices(std::span<const std::string> ids) override;
  Result<bool> CorporateIdentifierExists(const std::string& identifier) override;
  Result<bool> ImportCorporateIdentifier(const std::string& identifier) override;

  // Ends waits for the budget or a retry at once; calls then fail as kUnavailable (shutdown).
  void Stop();
  // Another process may have spent every budget up to `at_ms` (an engine that ran elsewhere):
  // nothing is sent before Graph's window has passed since then.
  void AssumeSpentAt(int64_t at_ms) {
    intune_budget_.AssumeSpentAt(at_ms);
    directory_budget_.AssumeSpentAt(at_ms);
  }

  // Asked just before each request leaves; false: not sent. The engine's client asks whether
  // this instance still holds the engine's lease, so that a process that was stopped sends
  // nothing after its lease may have passed to another.
  void SetSendGate(std::function<bool()> may_send) { may_send_ = std::move(may_send); }

  // HTTP requests sent to Graph ($batch envelopes count once) and Graph operations inside them.
  int64_t http_requests() const { return http_requests_.load(); }
  int64_t operations() const { return operations_.load(); }
  // Answers 429 although the budget allowed the call (someone else spends this app's quota).
  int64_t throttled() const { return throttled_.load(); }
  // The slots each budget counts within its window now, and its limits (the status page).
  struct BudgetUse {
    RequestBudget::Usage used;
    RequestBudget::Limits limits;
  };
  BudgetUse IntuneBudget() { return {intune_budget_.InWindow(), options_.intune_limits}; }
  BudgetUse DirectoryBudget() { return {directory_budget_.InWindow(), options_.directory_limits}; }

  // One Graph operation; `url` is relative to the endpoint ("/beta/deviceManagement/...").
  struct Call {
    std::string method = "GET";
    std::string url;
    std::optional<nlohmann::json> body;
    bool idempotent = true;  // may be repeated after a lost answer or a server error
    bool retry_429 = true;   // false where 429 is an answer, not throttling (sync)
  };
  struct Answer {
    int status = 0;  // 0: no answer, see `transport`
    nlohmann::json body;
    std::map<std::string, std::string> headers;
    Status transport;

    bool ok() const { return status >= 200 && status < 300; }
    // The answer as a Status naming Graph's code and message.
    Status ToStatus(std::string_view what) const;
  };
  Answer Send(const Call& call);
  // Sends the calls in `$batch` envelopes of up to 20 (a single call goes alone); answers in
  // the order of `calls`.
  std::vector<Answer> SendAll(const std::vector<Call>& calls);
  // The `value` items of every page from `url` on, following @odata.nextLink (only to Graph).
  Result<std::vector<nlohmann::json>> ListPages(std::string url, const std::string& what);

 private:
  RequestBudget& BudgetFor(const std::string& url);
  void NoteThrottled(const Call& call, const Answer& answer);
  // Deletes each `base`/{id}; 404 counts as deleted; never repeated after a lost answer.
  std::vector<Status> DeleteEach(const std::string& base, std::span<const std::string> ids,
                                 const std::string& what);
  // False when stopping.
  bool Acquire(const std::string& url, bool write, int64_t* taken_at);
  // Sleeps `wait` for the budget, counted in writes_waiting_ when a write waits; false when
  // stopped.
  bool WaitForBudget(std::chrono::milliseconds wait, bool write);
  std::optional<std::chrono::milliseconds> RetryDelay(int attempt, const Answer& answer) const;
  Answer SendOnce(const Call& call, SendReport* report);
  // Send, when the caller already took the first attempt's budget slot.
  // `slot_taken_at`: the budget slot the caller took for the first attempt, if it did.
  Answer Send(const Call& call, std::optional<int64_t> slot_taken_at);
  // `taken_at`: each call's budget slot, counted again from the envelope's answer.
  std::vector<Answer> SendBatch(const std::vector<const Call*>& calls,
                                const std::vector<int64_t>& taken_at);
  // GETs `base` + id + `query` for each id (batched): the resource, nullopt on 404, or the error.
  template <typename T>
  std::vector<Result<std::optional<T>>> GetEach(const std::string& base,
                                                std::span<const std::string> ids,
                                                const std::string& query,
                                                T (*parse)(const nlohmann::json&),
                                                const std::string& what) {
    std::vector<Call> calls;
    for (const std::string& id : ids) {
      calls.push_back({.method = "GET",
                       .url = base + id + query,
                       .body = std::nullopt,
                       .idempotent = true,
                       .retry_429 = true});
    }
    std::vector<Result<std::optional<T>>> out;
    for (const Answer& a : SendAll(calls)) {
      if (a.ok()) {
        out.emplace_back(std::optional<T>(parse(a.body)));
      } else if (a.status == 404) {
        out.emplace_back(std::optional<T>());
      } else {
        out.emplace_back(a.ToStatus(what));
      }
    }
    return out;
  }

  Options options_;
  OutboundHttp& http_;
  TokenSource& tokens_;
  const Clock& clock_;
  Sleep sleep_;
  RetryPolicy retry_;
  RequestBudget intune_budget_;
  RequestBudget directory_budget_;
  std::mutex stop_mu_;  // guards stopping_ (with stop_cv_)
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::function<bool()> may_send_;      // set before the first call
  std::atomic<int> writes_waiting_{0};  // calls whose writes wait for the budget now
  std::atomic<int64_t> http_requests_{0};
  std::atomic<int64_t> operations_{0};
  std::atomic<int64_t> throttled_{0};
};

}  // namespace apm
