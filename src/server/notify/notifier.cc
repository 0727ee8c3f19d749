#include "server/notify/notifier.h"

#include <algorithm>

#include "server/logging.h"
#include "server/notify/event_messages.h"

namespace apm {
namespace {

constexpr int kEventsPerRound = 500;
constexpr int kDeliveriesPerRound = 50;
constexpr std::chrono::seconds kSendTimeout{15};
constexpr int64_t kMaxRetryAfterMs = 24 * 3'600'000;
constexpr int64_t kStaleAfterMs = 3'600'000;

// Why an answer is not an acknowledgement, for the log and the outbox (never the URL: a
// Workflows URL carries its credential).
std::string FailureText(const Result<OutboundResponse>& r) {
  if (!r.ok()) return "no answer: " + r.status().message();
  return "answered HTTP " + std::to_string(r->status);
}

}  // namespace

Notifier::Notifier(NotifierSettings settings, EventOutbox& outbox, RequestStore& requests,
                   OutboundHttp& http, const Clock& clock)
    : settings_(std::move(settings)),
      outbox_(outbox),
      requests_(requests),
      http_(http),
      clock_(clock) {}

Notifier::~Notifier() {
  Stop();
}

int64_t Notifier::RetryDelayMs(int64_t failed_attempts) {
  // Standard Webhooks' example schedule after the first attempt.
  static constexpr int64_t kSeconds[] = {5,         5 * 60,    30 * 60,   2 * 3600, 5 * 3600,
                                         10 * 3600, 14 * 3600, 20 * 3600, 24 * 3600};
  if (failed_attempts < 1 || failed_attempts > int64_t(std::size(kSeconds))) return -1;
  return kSeconds[failed_attempts - 1] * 1000;
}

std::map<std::string, std::vector<std::string>> Notifier::ChannelsByState() const {
  std::map<std::string, std::vector<std::string>> out;
  auto add = [&](const std::string& url, const std::vector<std::string>& events,
                 const char* channel) {
    if (url.empty()) return;
    for (const std::string& name : events) {
      if (const EventKind* k = EventKindNamed(name)) out[std::string(k->state)].push_back(channel);
    }
  };
  add(settings_.webhook_url, settings_.webhook_events, "webhook");
  add(settings_.teams_url, settings_.teams_events, "teams");
  return out;
}

void Notifier::Start(std::function<bool()> may_run) {
  rounds_.Start(std::chrono::seconds(1), std::move(may_run), [this] { RunOnce(); });
}

void Notifier::Stop() {
  rounds_.Stop();
}

int Notifier::RunOnce() {
  const int64_t now = clock_.NowMs();
  // An event older than an hour is news to no one (notifications just switched on, or this
  // instance took over from one that could not send).
  Result<int64_t> queued =
      outbox_.QueueEventDeliveries(ChannelsByState(), now, now - kStaleAfterMs, kEventsPerRound);
  if (!queued.ok()) {
    LogWarn("notifications: queueing events failed", {{"error", queued.status().ToString()}});
  }
  Result<std::vector<EventDelivery>> due = outbox_.DueEventDeliveries(now, kDeliveriesPerRound);
  if (!due.ok()) {
    LogWarn("notifications: reading the outbox failed", {{"error", due.status().ToString()}});
    return 0;
  }
  for (const EventDelivery& d : *due) {
    if (!rounds_.Continuing()) break;
    Deliver(d);
  }
  if (Result<int64_t> waiting = outbox_.WaitingEventDeliveries(); waiting.ok()) {
    waiting_ = *waiting;
  }
  return int(due->size());
}

void Notifier::Deliver(const EventDelivery& d) {
  Result<StoredRequest> r = requests_.Get(d.request_id);
  if (!r.ok()) {
    // Purged with its history: there is nothing left to tell.
    if (r.status().code() == StatusCode::kNotFound) {
      LogInfo("notification dropped: its request was purged",
              {{"channel", d.channel}, {"event", EventId(d)}});
      (void)outbox_.FinishEventDelivery(d.event_seq, d.channel);  // else tried next round
    }
    return;
  }
  const bool teams = d.channel == "teams";
  OutboundRequest request;
  request.method = "POST";
  request.url = teams ? settings_.teams_url : settings_.webhook_url;
  request.timeout = kSendTimeout;
  request.may_send = rounds_.send_gate();
  if (teams) {
    request.body = TeamsCardBody(d, *r, settings_.public_url);
    request.headers = {{"Content-Type", "application/json"}};
  } else {
    request.body = CloudEventBody(d, *r, settings_.public_url);
    const std::string id = EventId(d);
    const int64_t timestamp = clock_.NowMs() / 1000;  // of this attempt, as the spec asks
    Result<std::string> signature =
        StandardWebhookSignature(settings_.webhook_secret, id, timestamp, request.body);
    if (!signature.ok()) return;  // the settings were checked at start-up
    request.headers = {{"Content-Type", "application/cloudevents+json; charset=UTF-8"},
                       {"webhook-id", id},
                       {"webhook-timestamp", std::to_string(timestamp)},
                       {"webhook-signature", *signature}};
  }
  Result<OutboundResponse> answer = http_.Send(request);
  // Not sent because this instance lost the lease, or cut off by shutdown: no attempt.
  if (!answer.ok() && !rounds_.Continuing()) return;
  if (answer.ok() && answer->status >= 200 && answer->status <= 299) {
    if (Status s = outbox_.FinishEventDelivery(d.event_seq, d.channel); !s.ok()) {
      // It will be sent again, with the same id: receivers de-duplicate on it.
      LogWarn("notifications: acknowledgement not recorded", {{"error", s.ToString()}});
    }
    ++delivered_;
    return;
  }
  ++failed_attempts_;
  const std::string why = FailureText(answer);
  int64_t delay = RetryDelayMs(d.attempts + 1);
  const bool gone = answer.ok() && answer->status == 410;  // the receiver asks us to stop
  if (answer.ok() && delay >= 0) {
    if (std::optional<int> seconds = ParseRetryAfterSeconds(answer->Header("retry-after"))) {
      delay = std::max(delay, std::min<int64_t>(int64_t(*seconds) * 1000, kMaxRetryAfterMs));
    }
  }
  const bool give_up = gone || delay < 0;
  if (give_up) {
    ++given_up_;
    LogError("notification given up", {{"channel", d.channel},
                                       {"event", EventId(d)},
                                       {"attempts", d.attempts + 1},
                                       {"error", why}});
  } else {
    LogWarn("notification not delivered; will retry", {{"channel", d.channel},
                                                       {"event", EventId(d)},
                                                       {"retry_in_s", delay / 1000},
                                                       {"error", why}});
  }
  const int64_t now = clock_.NowMs();
  if (Status s = outbox_.RetryEventDelivery(d.event_seq, d.channel, give_up ? now : now + delay,
                                            give_up, why, now);
      !s.ok()) {
    LogWarn("notifications: retry not recorded", {{"error", s.ToString()}});
  }
}

}  // namespace apm
