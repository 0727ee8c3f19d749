// The simulator's repair side: registrations made before the simulation, managed devices, and
// the asynchronous, refusable deletion of Autopilot records.
#include <gtest/gtest.h>

#include "tenantsim/testing/graph_test.h"
#include "tenantsim/testing/registered_device.h"

namespace apm::sim {
namespace {

constexpr const char* kManaged = "/beta/deviceManagement/managedDevices";

std::string ContainsSerial(const std::string& serial) {
  return std::string(kDevices) + "?$filter=contains(serialNumber,%27" + serial + "%27)";
}

using RepairTest = GraphTest;

TEST_F(RepairTest, ARegistrationFromBeforeShowsItsDetailsAndItsManagedDevice) {
  const std::string id = model_.AddRegisteredDevice(RepairedLaptop("PF-REPAIR1"));
  RegisteredDeviceSpec neighbour;
  neighbour.serial_number = "PF-REPAIR10";
  model_.AddRegisteredDevice(neighbour);

  Answer listed = Get(ContainsSerial("PF-REPAIR1"));
  ASSERT_EQ(listed.status, 200) << listed.body;
  ASSERT_EQ(listed.body["value"].size(), 2u);  // contains() also finds the longer serial
  json record = Get(std::string(kDevices) + "/" + id).body;
  EXPECT_EQ(record["serialNumber"], "PF-REPAIR1");
  EXPECT_EQ(record["groupTag"], "Kiosk");
  EXPECT_EQ(record["purchaseOrderIdentifier"], "PO-77");
  EXPECT_EQ(record["userPrincipalName"], "ada@contoso.example");
  EXPECT_EQ(record["enrollmentState"], "enrolled");
  EXPECT_EQ(record["lastContactedDateTime"],
            FormatTimestamp(clock_.NowMs() - 3LL * 24 * 60 * 60 * 1000));
  EXPECT_NE(record["azureActiveDirectoryDeviceId"], "");
  const std::string managed_id = record["managedDeviceId"];
  ASSERT_NE(managed_id, "00000000-0000-0000-0000-000000000000");

  Answer managed = Get(std::string(kManaged) + "/" + managed_id);
  ASSERT_EQ(managed.status, 200) << managed.body;
  EXPECT_EQ(managed.body["deviceName"], "DESKTOP-OLD");
  EXPECT_EQ(managed.body["serialNumber"], "PF-REPAIR1");
  EXPECT_EQ(managed.body["azureADDeviceId"], record["azureActiveDirectoryDeviceId"]);
  Answer by_serial = Get(std::string(kManaged) + "?$filter=serialNumber%20eq%20%27PF-REPAIR1%27");
  ASSERT_EQ(by_serial.status, 200) << by_serial.body;
  EXPECT_EQ(by_serial.body["value"].size(), 1u);
}

TEST_F(RepairTest, DeletionIsRefusedWhileManagedThenAsynchronous) {
  const std::string id = model_.AddRegisteredDevice(RepairedLaptop("PF-REPAIR2"));
  const std::string record_url = std::string(kDevices) + "/" + id;
  const std::string managed_id = Get(record_url).body["managedDeviceId"];

  Answer refused = Call("DELETE", record_url);
  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(Nested(refused.body)["_version"], 3);
  EXPECT_EQ(Get(record_url).status, 200);

  EXPECT_EQ(Call("DELETE", std::string(kManaged) + "/" + managed_id).status, 204);
  EXPECT_EQ(Get(std::string(kManaged) + "/" + managed_id).status, 404);
  EXPECT_EQ(Call("DELETE", std::string(kManaged) + "/" + managed_id).status, 404);
  EXPECT_EQ(Get(record_url).body["managedDeviceId"], "00000000-0000-0000-0000-000000000000");
  EXPECT_EQ(Get(record_url).body["enrollmentState"], "notContacted");

  EXPECT_EQ(Call("DELETE", record_url).status, 204);
  // Still there until the deletion completes; an import of the serial meanwhile is an 806.
  EXPECT_EQ(Get(record_url).status, 200);
  Answer early = Post(kImportsPath, ImportBody("PF-REPAIR2", Hash("PF-REPAIR2")));
  clock_.Advance(milliseconds(model_.config().import_delay_ms));
  EXPECT_EQ(Get(std::string(kImportsPath) + "/" + early.body["id"].get<std::string>())
                .body["state"]["deviceErrorCode"],
            806);
  clock_.Advance(milliseconds(model_.config().autopilot_delete_delay_ms));
  EXPECT_EQ(Get(record_url).status, 404);
  EXPECT_EQ(Get(ContainsSerial("PF-REPAIR2")).body["value"].size(), 0u);

  // Gone: the new hash imports.
  Answer late = Post(kImportsPath, ImportBody("PF-REPAIR2", Hash("PF-REPAIR2")));
  clock_.Advance(milliseconds(model_.config().import_delay_ms));
  EXPECT_EQ(Get(std::string(kImportsPath) + "/" + late.body["id"].get<std::string>())
                .body["state"]["deviceImportStatus"],
            "complete");

  SimStats stats = model_.Stats();
  EXPECT_EQ(stats.autopilot_deletes_by_serial["PF-REPAIR2"], 1);
  EXPECT_EQ(stats.managed_device_deletes_by_serial["PF-REPAIR2"], 1);
}

TEST_F(RepairTest, AnImportDuringTheDeletionCanMakeASecondRecord) {
  SimConfig config = model_.config();
  config.refuse_delete_while_managed = false;
  config.deleting_record_blocks_import = false;
  model_.SetConfig(config);
  const std::string id = model_.AddRegisteredDevice(RepairedLaptop("PF-REPAIR4"));
  ASSERT_EQ(Call("DELETE", std::string(kDevices) + "/" + id).status, 204);
  Answer during = Post(kImportsPath, ImportBody("PF-REPAIR4", Hash("PF-REPAIR4")));
  clock_.Advance(milliseconds(model_.config().import_delay_ms));
  EXPECT_EQ(Get(std::string(kImportsPath) + "/" + during.body["id"].get<std::string>())
                .body["state"]["deviceImportStatus"],
            "complete");
  EXPECT_EQ(model_.ImportCount("PF-REPAIR4"), 1);
}

TEST_F(RepairTest, DeletionWhileManagedCanBeAllowed) {
  SimConfig config = model_.config();
  config.refuse_delete_while_managed = false;
  config.autopilot_delete_delay_ms = 0;
  model_.SetConfig(config);
  const std::string id = model_.AddRegisteredDevice(RepairedLaptop("PF-REPAIR3"));
  EXPECT_EQ(Call("DELETE", std::string(kDevices) + "/" + id).status, 204);
  EXPECT_EQ(Get(std::string(kDevices) + "/" + id).status, 404);
}

TEST_F(RepairTest, RegistrationsComeFromTheAdminRouteAndTheConfigAndSurviveReset) {
  Answer bad = Call("POST", "/_sim/registrations", R"({"groupTag":"X"})", "");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.dump().find("serialNumber"), std::string::npos) << bad.body;
  EXPECT_EQ(
      Call("POST", "/_sim/registrations", R"({"serialNumber":"A","colour":"red"})", "").status,
      400);

  Answer made =
      Call("POST", "/_sim/registrations",
           R"({"serialNumber":"PF-SEED1","groupTag":"Lab","managedDeviceName":"PC-7"})", "");
  ASSERT_EQ(made.status, 201) << made.body;
  EXPECT_EQ(made.body["groupTag"], "Lab");
  EXPECT_EQ(Get(ContainsSerial("PF-SEED1")).body["value"].size(), 1u);

  Answer config =
      Call("POST", "/_sim/config",
           R"({"registeredDevices":[{"serialNumber":"PF-SEED2","purchaseOrderIdentifier":"PO-9"}],
                           "autopilotDeleteDelayMs":1000,"refuseDeleteWhileManaged":false})",
           "");
  ASSERT_EQ(config.status, 200) << config.body;
  EXPECT_EQ(config.body["registeredDevices"][0]["purchaseOrderIdentifier"], "PO-9");
  EXPECT_EQ(config.body["autopilotDeleteDelayMs"], 1000);
  EXPECT_EQ(
      Call("POST", "/_sim/config", R"({"registeredDevices":[{"serialNumber":7}]})", "").status,
      400);

  ASSERT_EQ(Call("POST", "/_sim/reset", "", "").status, 200);
  // The config's list replaced the earlier one; Reset makes exactly what it lists.
  EXPECT_EQ(Get(ContainsSerial("PF-SEED1")).body["value"].size(), 0u);
  json seeded = Get(ContainsSerial("PF-SEED2")).body["value"];
  ASSERT_EQ(seeded.size(), 1u);
  EXPECT_EQ(seeded[0]["purchaseOrderIdentifier"], "PO-9");
}

}  // namespace
}  // namespace apm::sim
