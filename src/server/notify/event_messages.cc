#include "server/notify/event_messages.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <nlohmann/json.hpp>

#include "core/base64.h"
#include "server/clock.h"
#include "server/config.h"
#include "server/json_text.h"
#include "server/status_json.h"

namespace apm {
namespace {

using json = nlohmann::ordered_json;

json ErrorJson(const StoredRequest& r) {
  if (!r.error) return nullptr;
  return {{"code", r.error->code}, {"name", r.error->name}, {"message", r.error->message}};
}

// Text a device sent, for a card Teams renders as markdown: "](" is what makes a link whose
// words hide its address, so it is broken up ("[Approve](https://…)" shows as typed).
std::string CardText(std::string s) {
  for (size_t at = s.find("]("); at != std::string::npos; at = s.find("](", at + 2)) {
    s.insert(at + 1, " ");
  }
  return s;
}

std::string RequestPage(const std::string& base_url, const StoredRequest& r) {
  return base_url.empty() ? "" : ApprovalUrl(base_url, r);
}

}  // namespace

const std::vector<EventKind>& EventKinds() {
  static const std::vector<EventKind> kKinds = {
      {"waiting", "pending_approval", "A device waits for approval"},
      {"approved", "approved", "Device request approved"},
      {"rejected", "rejected", "Device request rejected"},
      {"removing_registration", "removing_registration",
       "Repair: the old registration is being removed"},
      {"completed", "completed", "Device registered for Autopilot"},
      {"failed", "failed", "Device registration failed"},
      {"expired", "expired", "Device request expired unapproved"},
      {"not_allowed", "not_allowed", "Device not allowed"},
  };
  return kKinds;
}

const EventKind* EventKindOfState(std::string_view state) {
  for (const EventKind& k : EventKinds()) {
    if (k.state == state) return &k;
  }
  return nullptr;
}

const EventKind* EventKindNamed(std::string_view name) {
  for (const EventKind& k : EventKinds()) {
    if (k.name == name) return &k;
  }
  return nullptr;
}

std::string EventId(const EventDelivery& d) {
  return "evt_" + std::to_string(d.event_seq) + "_" + d.request_id;
}

std::string CloudEventBody(const EventDelivery& d, const StoredRequest& r,
                           const std::string& base_url) {
  const EventKind* kind = EventKindOfState(d.state);
  json data = {{"requestId", r.id},
               {"state", d.state},
               {"serialNumber", r.serial_number},
               {"manufacturer", r.manufacturer},
               {"model", r.model},
               {"requestedAction", r.requested_action},
               {"clientAddress", r.client_address},
               {"error", ErrorJson(r)}};
  if (!base_url.empty()) data["requestUrl"] = RequestPage(base_url, r);
  json event = {{"specversion", "1.0"},
                {"id", EventId(d)},
                {"source", base_url.empty() ? "/autopilot-manager" : base_url},
                {"type", "com.autopilotmanager.request." +
                             std::string(kind ? kind->name : std::string_view(d.state))},
                {"subject", r.serial_number},
                {"time", FormatTimestamp(d.at)},
                {"datacontenttype", "application/json"},
                {"data", data}};
  return JsonText(event);
}

std::string TeamsCardBody(const EventDelivery& d, const StoredRequest& r,
                          const std::string& base_url) {
  const EventKind* kind = EventKindOfState(d.state);
  json facts =
      json::array({{{"title", "Serial number"}, {"value", CardText(r.serial_number)}},
                   {{"title", "Device"}, {"value", CardText(r.manufacturer + " " + r.model)}},
                   {{"title", "Requested from"}, {"value", r.client_address}},
                   {{"title", "Request"}, {"value", r.id}},
                   {{"title", "When"}, {"value", FormatTimestamp(d.at)}}});
  if (r.error) facts.push_back({{"title", "Error"}, {"value", CardText(r.error->message)}});
  json card = {{"$schema", "http://adaptivecards.io/schemas/adaptive-card.json"},
               {"type", "AdaptiveCard"},
               {"version", "1.4"},
               {"body", json::array({{{"type", "TextBlock"},
                                      {"text", kind ? std::string(kind->title) : d.state},
                                      {"weight", "Bolder"},
                                      {"size", "Medium"},
                                      {"wrap", true}},
                                     {{"type", "FactSet"}, {"facts", facts}}})}};
  if (!base_url.empty()) {
    card["actions"] = json::array({{{"type", "Action.OpenUrl"},
                                    {"title", "Open the request"},
                                    {"url", RequestPage(base_url, r)}}});
  }
  json message = {
      {"type", "message"},
      {"attachments", json::array({{{"contentType", "application/vnd.microsoft.card.adaptive"},
                                    {"contentUrl", nullptr},
                                    {"content", card}}})}};
  return JsonText(message);
}

namespace {

// The HMAC key of a "whsec_<base64>" secret (padding optional, as the reference libraries read
// it).
Result<std::string> WebhookSecretKey(std::string_view secret) {
  constexpr std::string_view kPrefix = "whsec_";
  if (!secret.starts_with(kPrefix)) {
    return Status::InvalidArgument("the webhook secret does not start with whsec_");
  }
  std::string padded(secret.substr(kPrefix.size()));
  while (padded.size() % 4 != 0) padded += '=';
  Result<std::string> key = Base64Decode(padded);
  if (!key.ok() || key->empty()) {
    return Status::InvalidArgument("the webhook secret is not whsec_ followed by base64");
  }
  return key;
}

}  // namespace

Result<std::string> StandardWebhookSignature(std::string_view secret, std::string_view id,
                                             int64_t timestamp, std::string_view body) {
  Result<std::string> key = WebhookSecretKey(secret);
  if (!key.ok()) return key.status();
  std::string content = std::string(id) + "." + std::to_string(timestamp) + "." + std::string(body);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_size = 0;
  if (!HMAC(EVP_sha256(), key->data(), int(key->size()),
            reinterpret_cast<const unsigned char*>(content.data()), content.size(), mac,
            &mac_size)) {
    return Status::Internal("HMAC-SHA256 failed");
  }
  return "v1," + Base64Encode(std::string_view(reinterpret_cast<char*>(mac), mac_size));
}

namespace {

Status CheckEvents(const std::string& key, const std::vector<std::string>& events) {
  for (const std::string& name : events) {
    if (EventKindNamed(name)) continue;
    std::string known;
    for (const EventKind& k : EventKinds())
      known += (known.empty() ? "" : ", ") + std::string(k.name);
    return Status::InvalidArgument(key + ": \"" + name + "\" is not an event (" + known + ")");
  }
  return Status::Ok();
}

}  // namespace

Status ValidateNotificationSettings(const Config& c) {
  auto bad = [](const std::string& key, const std::string& why) {
    return Status::InvalidArgument(key + " " + why);
  };
  if (!c.NotificationWebhookUrl.empty()) {
    const std::string& url = c.NotificationWebhookUrl;
    if (!url.starts_with("https://") && !IsLoopbackHttpUrl(url)) {
      return bad("NotificationWebhookUrl",
                 "must start with https:// (plain http only to this machine)");
    }
    Result<std::string> bytes = WebhookSecretKey(c.NotificationWebhookSecret);
    if (!bytes.ok() || bytes->size() < 24 || bytes->size() > 64) {
      return bad("NotificationWebhookSecret",
                 "must be whsec_ followed by the base64 of 24 to 64 random bytes (e.g. "
                 "whsec_$(openssl rand -base64 32)); set it as APM_NOTIFICATION_WEBHOOK_SECRET");
    }
  }
  if (Status s = CheckEvents("NotificationWebhookEvents", c.NotificationWebhookEvents); !s.ok()) {
    return s;
  }
  if (!c.NotificationTeamsUrl.empty()) {
    const std::string& url = c.NotificationTeamsUrl;
    if (!url.starts_with("https://") && !IsLoopbackHttpUrl(url)) {
      return bad("NotificationTeamsUrl", "must start with https://");
    }
    if (url.find(".webhook.office.com") != std::string::npos) {
      return bad("NotificationTeamsUrl",
                 "is an Office 365 connector URL; those were retired in 2026. In Teams, add the "
                 "Workflows template \"Post to a channel when a webhook request is received\" "
                 "and use its URL");
    }
  }
  return CheckEvents("NotificationTeamsEvents", c.NotificationTeamsEvents);
}

}  // namespace apm
