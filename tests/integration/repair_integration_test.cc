// The repair path end to end: the real apm-server and apm-tenant-sim over HTTP. A device whose
// serial is already registered is looked up, shown, and re-registered, updated or stripped of
// its Intune record as the admin decides, exactly once through faults and kill -9.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>

#include "import_fixture.h"

namespace apm::itest {
namespace {

using ::testing::HasSubstr;

// The simulator's JSON for a registration made before the test (a laptop with an Intune record).
std::string OldBoard(const std::string& serial, const std::string& managed = "DESKTOP-OLD") {
  json spec = {{"serialNumber", serial},
               {"manufacturer", "LENOVO"},
               {"model", "21R3001BUK"},
               {"groupTag", "Kiosk"},
               {"purchaseOrderIdentifier", "PO-77"},
               {"userPrincipalName", "ada@contoso.example"},
               {"managedDeviceName", managed}};
  return spec.dump();
}

class RepairIntegrationTest : public ImportTest {
 protected:
  void Register(const std::string& serial, const std::string& managed = "DESKTOP-OLD") {
    HttpResult r =
        Http("POST", sim_->url() + "/_sim/registrations", OldBoard(serial, managed), kJson);
    ASSERT_EQ(r.status, 201) << r.body;
  }

  // What the server found for the request's serial, once it has looked (up to 10 s).
  json Registration(const std::string& id) {
    for (int i = 0; i < 100; ++i) {
      std::string out;
      if (server_->RunCommand({"request", "show", id}, &out) == 0) {
        json shown = json::parse(out, nullptr, false);
        if (shown.is_object() && shown.contains("registration")) return shown["registration"];
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "no registration lookup for " << id << "\n" << Problems();
    return json();
  }

  int ApproveWith(const std::string& id, std::vector<std::string> args, std::string* out) {
    args.insert(args.begin(), {"request", "approve", id});
    return server_->RunCommand(args, out);
  }

  json SimDevice(const std::string& serial) {
    json devices = Body(Http("GET", sim_->url() + "/_sim/devices"))["autopilotDevices"];
    for (const json& d : devices) {
      if (d["serialNumber"] == serial) return d;
    }
    return json();
  }
};

TEST_F(RepairIntegrationTest, AMotherboardSwapIsFoundShownAndReRegistered) {
  StartSim({"--autopilot-delete-delay-ms=500", "--registered-device=" + OldBoard("PF3MB1"),
            "--registered-device=" + OldBoard("PF3MB10", "NEIGHBOUR")});
  StartServer();
  const std::string id = Submit("PF3MB1");
  json found = Registration(id)["found"];
  ASSERT_EQ(found.size(), 1u) << found.dump() << " (the neighbour PF3MB10 is not a match)";
  EXPECT_EQ(found[0]["groupTag"], "Kiosk");
  EXPECT_EQ(found[0]["purchaseOrderIdentifier"], "PO-77");
  EXPECT_EQ(found[0]["userPrincipalName"], "ada@contoso.example");
  EXPECT_EQ(found[0]["managedDevice"]["deviceName"], "DESKTOP-OLD");
  const std::string old_id = found[0]["id"];

  std::string out;
  EXPECT_NE(ApproveWith(id, {"--group-tag", "Kiosk"}, &out), 0);
  EXPECT_THAT(out, HasSubstr("already registered"));
  ASSERT_EQ(ApproveWith(id, {"--re-register"}, &out), 0) << out;

  json last;
  std::vector<std::string> states = Follow(id, &last);
  ASSERT_EQ(last["state"], "completed") << last.dump() << Problems();
  json stats = SimStats();
  EXPECT_EQ(stats["managedDeviceDeletesBySerial"]["PF3MB1"], 1) << stats.dump();
  EXPECT_EQ(stats["autopilotDeletesBySerial"]["PF3MB1"], 1) << stats.dump();
  EXPECT_EQ(stats["importsBySerial"]["PF3MB1"], 1) << stats.dump();
  EXPECT_FALSE(stats["autopilotDeletesBySerial"].contains("PF3MB10"));
  EXPECT_FALSE(stats["managedDeviceDeletesBySerial"].contains("PF3MB10"));
  json now = SimDevice("PF3MB1");
  EXPECT_NE(now["id"], old_id);
  EXPECT_EQ(now["groupTag"], "Kiosk") << "carried over from the old registration";
  EXPECT_EQ(now["userPrincipalName"], "ada@contoso.example");
  EXPECT_EQ(now["purchaseOrderIdentifier"], "") << "Graph offers no way to carry it over";
  EXPECT_FALSE(SimDevice("PF3MB10").is_null());
}

TEST_F(RepairIntegrationTest, TwoExactMatchesCannotBeApprovedAndNothingIsDeleted) {
  StartSim({"--registered-device=" + OldBoard("PF3TWIN"),
            "--registered-device=" + OldBoard("pf3twin", "OTHER")});
  StartServer();
  const std::string id = Submit("PF3TWIN");
  ASSERT_EQ(Registration(id)["found"].size(), 2u);
  std::string out;
  EXPECT_NE(ApproveWith(id, {"--re-register"}, &out), 0);
  EXPECT_THAT(out, HasSubstr("2 registrations have the serial number"));
  json stats = SimStats();
  EXPECT_TRUE(stats["autopilotDeletesBySerial"].empty()) << stats.dump();
  EXPECT_TRUE(stats["managedDeviceDeletesBySerial"].empty()) << stats.dump();
}

TEST_F(RepairIntegrationTest, UpdateOnlyChangesTheRegistrationAndImportsNothing) {
  StartSim({"--registered-device=" + OldBoard("PF3UPD")});
  StartServer();
  const std::string id = Submit("PF3UPD");
  const std::string old_id = Registration(id)["found"][0]["id"];
  std::string out;
  ASSERT_EQ(ApproveWith(id,
                        {"--update-only", "--group-tag", "Shared", "--name", "LAB-07", "--user",
                         "bo@contoso.example"},
                        &out),
            0)
      << out;
  json last;
  Follow(id, &last);
  ASSERT_EQ(last["state"], "completed") << last.dump() << Problems();
  json stats = SimStats();
  EXPECT_FALSE(stats["importsBySerial"].contains("PF3UPD")) << stats.dump();
  EXPECT_TRUE(stats["autopilotDeletesBySerial"].empty());
  json now = SimDevice("PF3UPD");
  EXPECT_EQ(now["id"], old_id);
  EXPECT_EQ(now["groupTag"], "Shared");
  EXPECT_EQ(now["displayName"], "LAB-07");
  EXPECT_EQ(now["userPrincipalName"], "bo@contoso.example");
}

TEST_F(RepairIntegrationTest, RemovingTheIntuneRecordDeletesExactlyOneManagedDevice) {
  StartSim({"--registered-device=" + OldBoard("PF3ERASE"),
            "--registered-device=" + OldBoard("PF3ERASE2", "OTHER")});
  StartServer("AllowDeletionInApprovalMode = true\nClientSecret = \"simulator-secret\"\n");
  const std::string id = Submit("PF3ERASE");
  ASSERT_EQ(Registration(id)["found"].size(), 1u);
  std::string out;
  ASSERT_EQ(ApproveWith(id, {"--remove-intune-record"}, &out), 0) << out;
  json last;
  Follow(id, &last);
  ASSERT_EQ(last["state"], "completed") << last.dump() << Problems();
  json stats = SimStats();
  EXPECT_EQ(stats["managedDeviceDeletesBySerial"], json({{"PF3ERASE", 1}})) << stats.dump();
  EXPECT_TRUE(stats["autopilotDeletesBySerial"].empty());
  EXPECT_FALSE(stats["importsBySerial"].contains("PF3ERASE"));
}

TEST_F(RepairIntegrationTest, KilledServerAndFaultsNeverDeleteTwiceOrImportTwice) {
  StartSim({"--autopilot-delete-delay-ms=300", "--error-rate=0.1", "--lost-response-rate=0.05",
            "--drop-rate=0.05", "--seed=11"});
  StartServer();
  std::vector<std::string> serials, ids;
  for (int i = 0; i < 50; ++i) {
    serials.push_back("PF3RK" + std::to_string(100 + i));
    Register(serials.back(), "PC-" + std::to_string(i));
  }
  for (const std::string& serial : serials) ids.push_back(Submit(serial));
  for (const std::string& id : ids) ASSERT_EQ(Registration(id)["found"].size(), 1u) << id;
  for (const std::string& id : ids) {
    std::string out;
    ASSERT_EQ(ApproveWith(id, {"--re-register"}, &out), 0) << out;
  }
  std::mt19937 rng(7);
  for (int round = 0; round < 4; ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300 + rng() % 1200));
    server_->Kill9();
    ASSERT_TRUE(server_->Start()) << server_->log();
  }
  auto final_state = WaitAll(ids, std::chrono::seconds(240));
  ASSERT_EQ(final_state.size(), ids.size()) << Problems();
  for (const auto& [id, state] : final_state) EXPECT_EQ(state, "completed") << id << Problems();
  json stats = SimStats();
  for (const std::string& serial : serials) {
    EXPECT_EQ(stats["managedDeviceDeletesBySerial"][serial], 1) << serial;
    EXPECT_EQ(stats["autopilotDeletesBySerial"][serial], 1) << serial;
    EXPECT_EQ(stats["importsBySerial"][serial], 1) << serial;
  }
}

TEST_F(RepairIntegrationTest, ACorporateIdentifierIsRegisteredOnceAndCheckedFirst) {
  StartSim();
  StartServer();
  json device = {{"serialNumber", "PF3APV01"},
                 {"manufacturer", "Dell Inc."},
                 {"model", "Latitude 5440"},
                 {"action", "register_corporate_identifier"}};
  auto register_once = [&]() {
    HttpResult r = Http("POST", server_->url() + "/api/v1/requests", device.dump(), kJson);
    EXPECT_EQ(r.status, 201) << r.body;
    const std::string id = Body(r)["id"];
    std::string out;
    EXPECT_EQ(ApproveWith(id, {}, &out), 0) << out;
    json last;
    Follow(id, &last);
    EXPECT_EQ(last["state"], "completed") << last.dump() << Problems();
    return last;
  };
  json first = register_once();
  json stats = SimStats();
  EXPECT_EQ(stats["identityImportsByIdentifier"]["Dell Inc,Latitude 5440,PF3APV01"], 1)
      << stats.dump();
  EXPECT_FALSE(stats["importsBySerial"].contains("PF3APV01")) << "no hash import";

  json second = register_once();
  EXPECT_EQ(second["step"], "Already registered as a corporate device") << second.dump();
  EXPECT_EQ(SimStats()["identityImportsByIdentifier"]["Dell Inc,Latitude 5440,PF3APV01"], 1);

  // Characters Intune refuses are a 400 naming the field, before anything is stored or sent.
  json bad = device;
  bad["serialNumber"] = "PF3,APV02";
  HttpResult refused = Http("POST", server_->url() + "/api/v1/requests", bad.dump(), kJson);
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_EQ(Body(refused)["error"]["field"], "serialNumber") << refused.body;
  bad = device;
  bad["model"] = "...";
  refused = Http("POST", server_->url() + "/api/v1/requests", bad.dump(), kJson);
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_EQ(Body(refused)["error"]["field"], "model") << refused.body;

  // ap.exe 1.x -u: the compatibility API reads an empty HardwareHash as the same request.
  json compat = {{"SerialNumber", "PF3APV03"},
                 {"Manufacturer", "HP"},
                 {"Model", "EliteBook 840"},
                 {"HardwareHash", ""}};
  HttpResult saved =
      Http("POST",
           server_->url() + "/api-autopilot/3f1c2b4a-0000-4000-8000-00000000a003/save-information",
           compat.dump(), kJson);
  EXPECT_EQ(saved.status, 200) << saved.body;
  std::string out;
  ASSERT_EQ(server_->RunCommand({"request", "list"}, &out), 0);
  EXPECT_THAT(out, HasSubstr("PF3APV03"));
}

}  // namespace
}  // namespace apm::itest
