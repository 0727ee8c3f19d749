// What the notifier sends: a request event as a CloudEvent (structured JSON, signed per the
// Standard Webhooks spec) or as an Adaptive Card for a Teams Workflows webhook.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "server/store/event_outbox.h"
#include "server/store/request_store.h"

namespace apm {

// The events one can subscribe to, by the short name the settings use ("waiting", "approved",
// …), and the request state (RequestStateName) each stands for.
struct EventKind {
  std::string_view name;
  std::string_view state;
  std::string_view title;  // a Teams card's headline
};
const std::vector<EventKind>& EventKinds();
const EventKind* EventKindOfState(std::string_view state);
const EventKind* EventKindNamed(std::string_view name);

// The event's id: the same on every attempt, different for every event (no '.', as the
// signature scheme asks).
std::string EventId(const EventDelivery& d);

// A structured-mode CloudEvent 1.0 of type "com.autopilotmanager.request.<name>". `base_url`
// (PublicUrl) is the source and gives the request page's link; empty: a relative source.
std::string CloudEventBody(const EventDelivery& d, const StoredRequest& r,
                           const std::string& base_url);

// The Workflows template's body: a message with one Adaptive Card 1.4 (device, requester's
// address, state, error) and a link to the request page when `base_url` is known.
std::string TeamsCardBody(const EventDelivery& d, const StoredRequest& r,
                          const std::string& base_url);

struct Config;
// The Notification… settings' checks, for ValidateConfig.
Status ValidateNotificationSettings(const Config& config);

// "v1,<base64 HMAC-SHA256>" of "<id>.<timestamp>.<body>" with a "whsec_…" secret.
Result<std::string> StandardWebhookSignature(std::string_view secret, std::string_view id,
                                             int64_t timestamp, std::string_view body);

}  // namespace apm
