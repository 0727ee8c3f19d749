// The fixture of the simulator's Graph tests: a ManualClock, a tenant with one app that may do
// everything the import needs, and Call() that sends one request through the SimHandler.
#pragma once

#include <gtest/gtest.h>

#include <cctype>
#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "core/testing/hash_builder.h"
#include "tenantsim/sim_handler.h"

namespace apm::sim {

using json = nlohmann::json;
using apm::testing::HashBuilder;
using apm::testing::HashText;
using std::chrono::milliseconds;

inline constexpr const char* kImportsPath =
    "/beta/deviceManagement/importedWindowsAutopilotDeviceIdentities";
inline constexpr const char* kDevices = "/beta/deviceManagement/windowsAutopilotDeviceIdentities";

struct Answer {
  int status = 0;
  json body;
  std::map<std::string, std::string> headers;  // names lower-case
  bool dropped = false;

  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

inline std::string Hash(const std::string& serial, const std::string& manufacturer = "LENOVO",
                        const std::string& model = "21R3001BUK") {
  return HashText(HashBuilder::Laptop(serial, manufacturer, model).Build());
}

inline nlohmann::json ImportBody(const std::string& serial, const std::string& hash,
                                 const std::string& tag = "") {
  // The shape the Microsoft script sends, client-supplied state included (§2).
  return {{"@odata.type", "#microsoft.graph.importedWindowsAutopilotDeviceIdentity"},
          {"groupTag", tag},
          {"serialNumber", serial},
          {"productKey", ""},
          {"hardwareIdentifier", hash},
          {"assignedUserPrincipalName", ""},
          {"state",
           {{"@odata.type", "microsoft.graph.importedWindowsAutopilotDeviceIdentityState"},
            {"deviceImportStatus", "pending"},
            {"deviceRegistrationId", ""},
            {"deviceErrorCode", 0},
            {"deviceErrorName", ""}}}};
}

// Intune wraps its error as JSON text inside Graph's message.
inline nlohmann::json Nested(const json& error_body) {
  return json::parse(error_body["error"]["message"].get<std::string>(), nullptr, false);
}

inline SimConfig TestConfig() {
  SimConfig c;
  c.import_delay_ms = 10'000;
  c.sync_visible_delay_ms = 20'000;
  c.sync_delay_ms = 60'000;
  c.profile_delay_ms = 30'000;
  c.other_tenant_serials = {"OTHER1"};
  c.registered_serials = {"REG1"};
  c.write_limit = 0;
  c.request_limit = 0;
  c.admin_enabled = true;
  c.seed = 42;
  return c;
}

class GraphTest : public ::testing::Test {
 protected:
  explicit GraphTest(SimConfig config = TestConfig())
      : identity_(clock_, "tid-1", "contoso.example"),
        model_(clock_, std::move(config)),
        handler_(identity_, model_, clock_) {
    identity_.AddApp({"app-1",
                      "s3cret",
                      {"DeviceManagementServiceConfig.ReadWrite.All",
                       "DeviceManagementManagedDevices.ReadWrite.All", "Device.Read.All",
                       "GroupMember.ReadWrite.All"},
                      ""});
    identity_.AddApp({"app-ro", "x", {"Device.Read.All"}, ""});
    token_ = identity_.IssueToken("app-1")->access_token;
  }

  Answer Call(const std::string& method, const std::string& target, const std::string& body = "",
              const std::string& token = "*") {
    InboundRequest req;
    req.message.method_string(method);
    req.message.target(target);
    req.message.version(11);
    req.message.set(http::field::host, "sim.test:9090");
    std::string t = token == "*" ? token_ : token;
    if (!t.empty()) req.message.set(http::field::authorization, "Bearer " + t);
    if (!body.empty()) req.message.set(http::field::content_type, "application/json");
    req.message.body() = body;
    size_t q = target.find('?');
    req.path = target.substr(0, q);
    if (q != std::string::npos) req.query = target.substr(q + 1);
    Answer out;
    bool answered = false;
    handler_.Handle(std::move(req), [&](AnyResponse res, std::string_view) {
      auto& r = std::get<StringResponse>(res);
      answered = true;
      out.status = r.result_int();
      out.body = r.body().empty() ? json() : json::parse(r.body(), nullptr, false);
      for (const auto& f : r) {
        std::string name(f.name_string());
        for (char& c : name) c = char(std::tolower(static_cast<unsigned char>(c)));
        out.headers[name] = std::string(f.value());
      }
      out.dropped = r[kDropConnectionHeader] == "1";
    });
    EXPECT_TRUE(answered);
    return out;
  }
  Answer Get(const std::string& target) { return Call("GET", target); }
  Answer Post(const std::string& target, const json& body) {
    return Call("POST", target, body.dump());
  }

  // A record, imported and advanced until its identity carries the Entra device id.
  json ImportSynced(const std::string& serial) {
    Answer created = Post(kImportsPath, ImportBody(serial, Hash(serial)));
    EXPECT_EQ(created.status, 201) << created.body;
    clock_.Advance(milliseconds(10'000 + 60'000));
    Answer record = Get(std::string(kImportsPath) + "/" + created.body["id"].get<std::string>());
    return Get(std::string(kDevices) + "/" +
               record.body["state"]["deviceRegistrationId"].get<std::string>())
        .body;
  }

  ManualClock clock_;
  Identity identity_;
  GraphModel model_;
  SimHandler handler_;
  std::string token_;
};

}  // namespace apm::sim
