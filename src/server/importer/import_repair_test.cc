// The repair path through the import engine against the tenant simulator: re-register a
// repaired device, update a registration in place, remove an Intune record, and stop safely
// when the tenant is not what the approver saw.
#include <gtest/gtest.h>

#include "server/importer/registration_check.h"
#include "server/importer/testing/engine_fixture.h"
#include "server/testing/forwarding_graph_api.h"
#include "tenantsim/testing/registered_device.h"

namespace apm {
namespace {

using RepairTest = ImportEngineTest;

sim::RegisteredDeviceSpec OldBoard(const std::string& serial) {
  return sim::RepairedLaptop(serial);
}

Approval Decided(ApprovalAction action, const std::string& registration_id,
                 const std::string& tag = "Kiosk", const std::string& user = "") {
  Approval a;
  a.group_tag = tag;
  a.assigned_user = user;
  a.approver = "cli:test";
  a.action = action;
  a.registration_id = registration_id;
  return a;
}

const sim::AutopilotDeviceView* DeviceWithSerial(const std::vector<sim::AutopilotDeviceView>& all,
                                                 const std::string& serial) {
  for (const auto& d : all) {
    if (d.serial_number == serial) return &d;
  }
  return nullptr;
}

TEST_F(RepairTest, AMotherboardSwapIsReRegisteredWithOneDeleteOfEachAndOneImport) {
  const std::string old_id = model_->AddRegisteredDevice(OldBoard("PF-SWAP1"));
  std::string id = Approved(
      "PF-SWAP1", Decided(ApprovalAction::kReRegister, old_id, "Kiosk", "ada@contoso.example"));
  RunUntilDone({id});
  StoredRequest r = Get(id);
  ASSERT_EQ(r.state, RequestState::kCompleted)
      << r.step << " " << (r.error ? r.error->message : "");

  sim::SimStats stats = model_->Stats();
  EXPECT_EQ(stats.managed_device_deletes_by_serial["PF-SWAP1"], 1);
  EXPECT_EQ(stats.autopilot_deletes_by_serial["PF-SWAP1"], 1);
  EXPECT_EQ(model_->ImportCount("PF-SWAP1"), 1);
  const auto devices = model_->Devices();
  const sim::AutopilotDeviceView* now = DeviceWithSerial(devices, "PF-SWAP1");
  ASSERT_NE(now, nullptr);
  EXPECT_NE(now->id, old_id) << "a new registration replaced the old one";
  EXPECT_EQ(now->group_tag, "Kiosk");
  EXPECT_EQ(now->user_principal_name, "ada@contoso.example");
  EXPECT_TRUE(now->managed_device_id.empty());

  // Each removal step was visible to the client, in order, before the import.
  Result<std::vector<RequestStep>> steps = store_->Steps(id);
  ASSERT_TRUE(steps.ok());
  std::vector<std::string> texts;
  for (const RequestStep& s : *steps) texts.push_back(s.step);
  auto at = [&](const std::string& text) {
    return std::find(texts.begin(), texts.end(), text) - texts.begin();
  };
  EXPECT_LT(at("Removing the device from Intune"), at("Removing the old registration"));
  EXPECT_LT(at("Removing the old registration"),
            at("Waiting for the old registration to be removed"));
  EXPECT_LT(at("Waiting for the old registration to be removed"),
            at("Importing the device into Autopilot"));
  EXPECT_LT(at("Importing the device into Autopilot"), std::ssize(texts));
}

TEST_F(RepairTest, ANeighbourWhoseSerialContainsOursIsNeverTouched) {
  const std::string old_id = model_->AddRegisteredDevice(OldBoard("PF-NB1"));
  model_->AddRegisteredDevice(OldBoard("PF-NB10"));
  model_->AddRegisteredDevice(OldBoard("XPF-NB1"));
  std::string id = Approved("PF-NB1", Decided(ApprovalAction::kReRegister, old_id));
  RunUntilDone({id});
  ASSERT_EQ(Get(id).state, RequestState::kCompleted);
  sim::SimStats stats = model_->Stats();
  EXPECT_EQ(stats.autopilot_deletes_by_serial["PF-NB10"], 0);
  EXPECT_EQ(stats.autopilot_deletes_by_serial["XPF-NB1"], 0);
  EXPECT_EQ(stats.managed_device_deletes_by_serial["PF-NB10"], 0);
  const auto devices = model_->Devices();
  EXPECT_NE(DeviceWithSerial(devices, "PF-NB10"), nullptr);
  EXPECT_NE(DeviceWithSerial(devices, "XPF-NB1"), nullptr);
}

TEST_F(RepairTest, TwoExactMatchesStopTheJobWithNothingDeleted) {
  const std::string old_id = model_->AddRegisteredDevice(OldBoard("PF-TWIN"));
  model_->AddRegisteredDevice(OldBoard("pf-twin"));
  std::string id = Approved("PF-TWIN", Decided(ApprovalAction::kReRegister, old_id));
  RunUntilDone({id});
  StoredRequest r = Get(id);
  ASSERT_EQ(r.state, RequestState::kFailed);
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->name, "RegistrationAmbiguous");
  EXPECT_NE(r.error->message.find("Nothing was deleted"), std::string::npos);
  sim::SimStats stats = model_->Stats();
  EXPECT_TRUE(stats.autopilot_deletes_by_serial.empty());
  EXPECT_TRUE(stats.managed_device_deletes_by_serial.empty());
  EXPECT_EQ(model_->ImportCount("PF-TWIN"), 0);
}

TEST_F(RepairTest, ARegistrationThatChangedSinceTheApprovalIsLeftAlone) {
  model_->AddRegisteredDevice(OldBoard("PF-MOVED"));
  std::string id = Approved("PF-MOVED", Decided(ApprovalAction::kReRegister, "some-other-id"));
  RunUntilDone({id});
  StoredRequest r = Get(id);
  ASSERT_EQ(r.state, RequestState::kFailed);
  EXPECT_EQ(r.error->name, "RegistrationChanged");
  EXPECT_TRUE(model_->Stats().autopilot_deletes_by_serial.empty());
}

TEST_F(RepairTest, UpdateOnlyChangesTheRegistrationAndImportsNothing) {
  const std::string old_id = model_->AddRegisteredDevice(OldBoard("PF-RESET"));
  Approval a = Decided(ApprovalAction::kUpdateOnly, old_id, "Shared", "bo@contoso.example");
  a.device_name = "LAB-07";
  std::string id = Approved("PF-RESET", a);
  RunUntilDone({id});
  StoredRequest r = Get(id);
  ASSERT_EQ(r.state, RequestState::kCompleted)
      << r.step << " " << (r.error ? r.error->message : "");
  EXPECT_EQ(model_->ImportCount("PF-RESET"), 0);
  EXPECT_TRUE(model_->Stats().autopilot_deletes_by_serial.empty());
  EXPECT_TRUE(model_->Stats().managed_device_deletes_by_serial.empty());
  const auto devices = model_->Devices();
  const sim::AutopilotDeviceView* d = DeviceWithSerial(devices, "PF-RESET");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->id, old_id);
  EXPECT_EQ(d->group_tag, "Shared");
  EXPECT_EQ(d->display_name, "LAB-07");
  EXPECT_EQ(d->user_principal_name, "bo@contoso.example");
}

TEST_F(RepairTest, RemovingTheIntuneRecordDeletesExactlyOneManagedDevice) {
  const std::string old_id = model_->AddRegisteredDevice(OldBoard("PF-ERASE"));
  model_->AddRegisteredDevice(OldBoard("PF-ERASE2"));
  std::string id = Approved("PF-ERASE", Decided(ApprovalAction::kRemoveManagedDevice, old_id));
  RunUntilDone({id});
  ASSERT_EQ(Get(id).state, RequestState::kCompleted);
  sim::SimStats stats = model_->Stats();
  EXPECT_EQ(stats.managed_device_deletes_by_serial["PF-ERASE"], 1);
  EXPECT_EQ(stats.managed_device_deletes_by_serial.size(), 1u);
  EXPECT_TRUE(stats.autopilot_deletes_by_serial.empty());
  EXPECT_EQ(model_->ImportCount("PF-ERASE"), 0);
}

// Graph showing the zero GUID as managedDeviceId while Intune still holds the device: the job
// skips the managed device and the deletion of the record is refused.
class HidesManagedDevices : public apm::testing::ForwardingGraphApi {
 public:
  using ForwardingGraphApi::ForwardingGraphApi;
  Result<std::vector<AutopilotDevice>> FindAutopilotDevices(const std::string& serial) override {
    Result<std::vector<AutopilotDevice>> found = inner_.FindAutopilotDevices(serial);
    if (found.ok()) {
      for (AutopilotDevice& d : *found) d.managed_device_id.clear();
    }
    return found;
  }
};

TEST_F(RepairTest, ARefusedDeleteStopsTheJobWithWordsAnAdminCanActOn) {
  const std::string old_id = model_->AddRegisteredDevice(OldBoard("PF-STUCK"));
  HidesManagedDevices graph(*graph_);
  engine_ = std::make_unique<ImportEngine>(*store_, graph, clock_, settings_);
  std::string id = Approved("PF-STUCK", Decided(ApprovalAction::kReRegister, old_id));
  RunUntilDone({id});
  StoredRequest r = Get(id);
  ASSERT_EQ(r.state, RequestState::kFailed);
  EXPECT_EQ(r.error->name, "RegistrationNotDeleted");
  EXPECT_NE(r.error->message.find("nothing further was deleted"), std::string::npos);
  EXPECT_NE(r.error->message.find("Intune"), std::string::npos) << r.error->message;
  EXPECT_EQ(model_->ImportCount("PF-STUCK"), 0);
  const auto devices = model_->Devices();
  EXPECT_NE(DeviceWithSerial(devices, "PF-STUCK"), nullptr);
}

TEST_F(RepairTest, LostAnswersAndRestartsNeverDeleteTwiceOrImportTwice) {
  sim::SimConfig config = FastTenant();
  config.lost_response_rate = 0.2;
  config.error_rate = 0.1;
  config.seed = 7;
  Build(config);
  std::vector<std::string> ids;
  for (int i = 0; i < 12; ++i) {
    const std::string serial = "PF-LOST" + std::to_string(i);
    const std::string old_id = model_->AddRegisteredDevice(OldBoard(serial));
    ids.push_back(Approved(serial, Decided(ApprovalAction::kReRegister, old_id)));
  }
  // A restart every few steps: a new engine resumes each job from what the store says.
  for (int round = 0; round < 40; ++round) {
    RunUntilDone(ids, seconds(30));
    NewEngine();
  }
  RunUntilDone(ids);
  sim::SimStats stats = model_->Stats();
  for (int i = 0; i < 12; ++i) {
    const std::string serial = "PF-LOST" + std::to_string(i);
    StoredRequest r = Get(ids[size_t(i)]);
    EXPECT_EQ(r.state, RequestState::kCompleted)
        << serial << ": " << r.step << " " << (r.error ? r.error->message : "");
    EXPECT_EQ(stats.managed_device_deletes_by_serial[serial], 1) << serial;
    EXPECT_EQ(stats.autopilot_deletes_by_serial[serial], 1) << serial;
    EXPECT_EQ(model_->ImportCount(serial), 1) << serial;
  }
}

TEST_F(RepairTest, TheCheckerKeepsWhatTheTenantHoldsWithTheRequest) {
  model_->AddRegisteredDevice(OldBoard("PF-LOOK"));
  model_->AddRegisteredDevice(OldBoard("PF-LOOK2"));
  StoredRequest r;
  r.id = "req-look";
  r.serial_number = "pf-look";
  r.hardware_hash = "AA==";
  r.state = RequestState::kPendingApproval;
  r.created_at = r.updated_at = clock_.NowMs();
  r.expires_at = clock_.NowMs() + 3'600'000;
  ASSERT_TRUE(store_->Create(r, 1000, "").ok());
  RegistrationChecker checker(*store_, *graph_, clock_);
  EXPECT_EQ(checker.RunOnce(), 1);
  EXPECT_EQ(checker.RunOnce(), 0) << "looked up once";
  RegistrationCheck check = ParseRegistrationCheck(Get("req-look").registration);
  EXPECT_EQ(check.checked_at, clock_.NowMs());
  ASSERT_EQ(check.found.size(), 1u);
  EXPECT_EQ(check.found[0].device.serial_number, "PF-LOOK");
  EXPECT_EQ(check.found[0].device.group_tag, "Kiosk");
  EXPECT_EQ(check.found[0].device.purchase_order_id, "PO-77");
  EXPECT_EQ(check.found[0].device.user_principal_name, "ada@contoso.example");
  ASSERT_TRUE(check.found[0].managed);
  EXPECT_EQ(check.found[0].managed->device_name, "DESKTOP-OLD");
  EXPECT_FALSE(check.found[0].device.last_contacted.empty());
}

}  // namespace
}  // namespace apm

namespace apm {
namespace {

using CorporateIdentifierTest = ImportEngineTest;

// A pending request with no hash that asks to be registered by its corporate identifier.
std::string IdentifierRequest(RequestStore& store, const Clock& clock, const std::string& serial,
                              const std::string& manufacturer = "Dell Inc.") {
  StoredRequest r;
  r.id = "req-" + serial;
  r.serial_number = serial;
  r.manufacturer = manufacturer;
  r.model = "Latitude 5440";
  r.state = RequestState::kPendingApproval;
  r.created_at = r.updated_at = clock.NowMs();
  r.expires_at = clock.NowMs() + 3'600'000;
  r.requested_action = "register_corporate_identifier";
  EXPECT_TRUE(store.Create(r, 1000, "").ok());
  Approval a;
  a.approver = "cli:test";
  a.action = ApprovalAction::kRegisterCorporateIdentifier;
  EXPECT_TRUE(store.Approve(r.id, a, clock.NowMs()).ok());
  return r.id;
}

TEST_F(CorporateIdentifierTest, RegisteredOnceAndASecondTimeReportedAsAlreadyRegistered) {
  std::string first = IdentifierRequest(*store_, clock_, "APV2-01");
  RunUntilDone({first});
  StoredRequest r = Get(first);
  ASSERT_EQ(r.state, RequestState::kCompleted) << r.step << " " << (r.error ? r.error->message : "");
  EXPECT_EQ(model_->Stats().identity_imports_by_identifier["Dell Inc,Latitude 5440,APV2-01"], 1);
  EXPECT_EQ(model_->ImportCount("APV2-01"), 0) << "no hash import";

  // The same device again (say, after a reset): found, not imported a second time.
  ASSERT_TRUE(store_->PurgeFinishedBefore(clock_.NowMs() + 1).ok());
  std::string second = IdentifierRequest(*store_, clock_, "APV2-01");
  RunUntilDone({second});
  r = Get(second);
  ASSERT_EQ(r.state, RequestState::kCompleted);
  EXPECT_EQ(r.step, "Already registered as a corporate device");
  EXPECT_EQ(model_->Stats().identity_imports_by_identifier["Dell Inc,Latitude 5440,APV2-01"], 1);
}

TEST_F(CorporateIdentifierTest, LostAnswersAndRestartsRegisterEachIdentifierOnce) {
  sim::SimConfig config = FastTenant();
  config.lost_response_rate = 0.3;
  config.error_rate = 0.1;
  config.seed = 3;
  Build(config);
  std::vector<std::string> ids;
  for (int i = 0; i < 10; ++i) {
    ids.push_back(IdentifierRequest(*store_, clock_, "APV2-L" + std::to_string(i), "LENOVO"));
  }
  for (int round = 0; round < 10; ++round) {
    RunUntilDone(ids, seconds(20));
    NewEngine();
  }
  RunUntilDone(ids);
  for (int i = 0; i < 10; ++i) {
    StoredRequest r = Get(ids[size_t(i)]);
    EXPECT_EQ(r.state, RequestState::kCompleted) << r.step;
    EXPECT_EQ(model_->Stats().identity_imports_by_identifier["LENOVO,Latitude 5440,APV2-L" +
                                                             std::to_string(i)],
              1);
  }
}

}  // namespace
}  // namespace apm
