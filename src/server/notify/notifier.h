// Delivers request events from the outbox (event_outbox.h) to the configured channels: a
// webhook (CloudEvents, Standard Webhooks signature) and a Teams Workflows webhook. At least
// once: a delivery is removed only after a 2xx; failures are retried on the Standard Webhooks
// schedule (5 s … 24 h, ten attempts), honouring Retry-After; 410 gives the delivery up.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "server/background_rounds.h"
#include "server/clock.h"
#include "server/http/outbound_http.h"
#include "server/store/event_outbox.h"
#include "server/store/request_store.h"

namespace apm {

struct NotifierSettings {
  std::string webhook_url;
  std::string webhook_secret;
  std::vector<std::string> webhook_events;  // EventKind names
  std::string teams_url;
  std::vector<std::string> teams_events;
  std::string public_url;  // links and the CloudEvents source; may be empty
};

class Notifier {
 public:
  Notifier(NotifierSettings settings, EventOutbox& outbox, RequestStore& requests,
           OutboundHttp& http, const Clock& clock);
  ~Notifier();

  // Runs rounds on a thread of its own, each second, while `may_run()` (this instance holds the
  // engine's lease; asked again before each send, so a paused instance that lost the lease sends
  // nothing its successor sends); stops on Stop().
  void Start(std::function<bool()> may_run);
  // Shutdown in two steps: RequestStop() before the HTTP client is cancelled (a cut-off send is
  // then not counted as a failed attempt), Stop() after (waits for the round to end).
  void RequestStop() { rounds_.RequestStop(); }
  void Stop();

  // One round: new events become deliveries, and the due ones are sent. Returns how many
  // deliveries were attempted.
  int RunOnce();

  // The delay before attempt `failed_attempts + 1`, or -1 when there is none left.
  static int64_t RetryDelayMs(int64_t failed_attempts);

  uint64_t delivered() const { return delivered_; }
  uint64_t failed_attempts() const { return failed_attempts_; }
  uint64_t given_up() const { return given_up_; }
  int64_t waiting() const { return waiting_; }

 private:
  // The channels each request state goes to.
  std::map<std::string, std::vector<std::string>> ChannelsByState() const;
  void Deliver(const EventDelivery& d);

  NotifierSettings settings_;
  EventOutbox& outbox_;
  RequestStore& requests_;
  OutboundHttp& http_;
  const Clock& clock_;
  std::atomic<uint64_t> delivered_{0}, failed_attempts_{0}, given_up_{0};
  std::atomic<int64_t> waiting_{0};
  BackgroundRounds rounds_;
};

}  // namespace apm
