#include "server/status_json.h"

#include "server/clock.h"
#include "server/json_writer.h"

namespace apm {

std::string ApprovalUrl(const std::string& base_url, const StoredRequest& r) {
  return base_url + "/autopilot/" + r.id;
}

std::string StatusJson(const StoredRequest& r, const std::string& base_url, bool approval_mode,
                       const QrMatrix* qr) {
  JsonWriter w;
  w.BeginObject();
  w.Key("id").String(r.id);
  w.Key("state").String(RequestStateName(r.state));
  w.Key("step").String(r.step);
  w.Key("terminal").Bool(IsTerminal(r.state));
  w.Key("mode").String(approval_mode ? "approval" : "self_service");
  w.Key("approvalUrl").String(ApprovalUrl(base_url, r));
  w.Key("device").BeginObject();
  w.Key("serialNumber").String(r.serial_number);
  w.Key("manufacturer").String(r.manufacturer);
  w.Key("model").String(r.model);
  w.EndObject();
  w.Key("verification").String(r.verification);
  w.Key("error");
  if (r.error) {
    w.BeginObject();
    w.Key("code").Int(r.error->code);
    w.Key("name").String(r.error->name);
    w.Key("message").String(r.error->message);
    w.EndObject();
  } else {
    w.Null();
  }
  w.Key("createdAt").String(FormatTimestamp(r.created_at));
  w.Key("updatedAt").String(FormatTimestamp(r.updated_at));
  w.Key("expiresAt").String(FormatTimestamp(r.expires_at));
  w.Key("finishedAt");
  if (r.finished_at) {
    w.String(FormatTimestamp(r.finished_at));
  } else {
    w.Null();
  }
  if (qr) {
    w.Key("qr").BeginObject().Key("size").Int(qr->size).Key("rows").BeginArray();
    for (const std::string& row : qr->rows) w.String(row);
    w.EndArray().EndObject();
  }
  w.EndObject();
  return w.Take();
}

std::string ETag(const StoredRequest& r) {
  return "\"v" + std::to_string(r.version) + "\"";
}

}  // namespace apm
