#include "tenantsim/graph_router.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/base64.h"
#include "core/hardware_hash.h"
#include "core/testing/hash_builder.h"
#include "tenantsim/testing/graph_test.h"

namespace apm::sim {
namespace {

using json = nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

TEST_F(GraphTest, ImportLifecycleFromUnknownToProfileAssigned) {
  Answer created = Post(kImportsPath, ImportBody("PF3ABCDE", Hash("PF3ABCDE"), "Sales"));
  ASSERT_EQ(created.status, 201) << created.body;
  std::string id = created.body["id"];
  EXPECT_EQ(id.size(), 36u);
  EXPECT_EQ(created.body["importId"].get<std::string>().size(), 36u);
  EXPECT_EQ(created.body["serialNumber"], "PF3ABCDE");
  EXPECT_EQ(created.body["groupTag"], "Sales");
  // The client's "pending" is ignored: processing shows as "unknown" (§2 lifecycle).
  EXPECT_EQ(created.body["state"]["deviceImportStatus"], "unknown");

  clock_.Advance(milliseconds(9'999));
  EXPECT_EQ(Get(std::string(kImportsPath) + "/" + id).body["state"]["deviceImportStatus"],
            "unknown");
  clock_.Advance(milliseconds(1));
  Answer done = Get(std::string(kImportsPath) + "/" + id);
  ASSERT_EQ(done.body["state"]["deviceImportStatus"], "complete") << done.body;
  EXPECT_EQ(done.body["state"]["deviceErrorCode"], 0);
  std::string device_id = done.body["state"]["deviceRegistrationId"];
  ASSERT_FALSE(device_id.empty());

  // Not synced to Intune yet: 404 in Intune's nested form.
  Answer missing = Get(std::string(kDevices) + "/" + device_id);
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(Nested(missing.body)["_version"], 3);
  EXPECT_TRUE(Nested(missing.body)["Message"].is_string());

  // Visible first without the Entra device id.
  clock_.Advance(milliseconds(20'000));
  Answer early = Get(std::string(kDevices) + "/" + device_id + "?$expand=deploymentProfile");
  ASSERT_EQ(early.status, 200) << early.body;
  EXPECT_EQ(early.body["azureActiveDirectoryDeviceId"], "");
  EXPECT_EQ(early.body["serialNumber"], "PF3ABCDE");
  EXPECT_EQ(early.body["manufacturer"], "LENOVO");
  EXPECT_EQ(early.body["model"], "21R3001BUK");
  EXPECT_EQ(early.body["groupTag"], "Sales");
  EXPECT_EQ(early.body["purchaseOrderIdentifier"], "");
  EXPECT_EQ(early.body["enrollmentState"], "notContacted");
  EXPECT_EQ(early.body["deploymentProfileAssignmentStatus"], "notAssigned");

  clock_.Advance(milliseconds(40'000));
  Answer synced = Get(std::string(kDevices) + "/" + device_id);
  std::string aad = synced.body["azureActiveDirectoryDeviceId"];
  ASSERT_EQ(aad.size(), 36u);
  // v1.0 has no deploymentProfileAssignmentStatus (§3).
  Answer v1 = Get("/v1.0/deviceManagement/windowsAutopilotDeviceIdentities/" + device_id);
  EXPECT_EQ(v1.status, 200);
  EXPECT_FALSE(v1.body.contains("deploymentProfileAssignmentStatus"));

  Answer entra = Get("/beta/devices?$filter=deviceId%20eq%20'" + aad + "'");
  ASSERT_EQ(entra.status, 200);
  ASSERT_EQ(entra.body["value"].size(), 1u);
  const json& dev = entra.body["value"][0];
  EXPECT_EQ(dev["deviceId"], aad);
  EXPECT_EQ(dev["displayName"], "PF3ABCDE");
  EXPECT_EQ(dev["accountEnabled"], false);
  EXPECT_EQ(dev["operatingSystem"], "Windows");
  EXPECT_TRUE(dev["trustType"].is_null());
  EXPECT_EQ(dev["physicalIds"],
            json({"[ZTDId]:" + device_id, "[OrderID]:Sales", "[PurchaseOrderId]:"}));
  std::string object_id = dev["id"];
  EXPECT_EQ(Get("/v1.0/devices/" + object_id).body["deviceId"], aad);

  Answer groups = Get("/beta/groups?$filter=displayName+eq+'Autopilot%20Profile%20Devices'");
  ASSERT_EQ(groups.body["value"].size(), 1u);
  std::string group_id = groups.body["value"][0]["id"];
  EXPECT_EQ(group_id, model_.profile_group_id());
  Answer added =
      Post("/beta/groups/" + group_id + "/members/$ref",
           {{"@odata.id", "https://graph.microsoft.com/beta/directoryObjects/" + object_id}});
  EXPECT_EQ(added.status, 204) << added.body;
  EXPECT_EQ(Get(std::string(kDevices) + "/" + device_id).body["deploymentProfileAssignmentStatus"],
            "pending");
  clock_.Advance(milliseconds(30'000));
  Answer assigned = Get(std::string(kDevices) + "/" + device_id);
  EXPECT_EQ(assigned.body["deploymentProfileAssignmentStatus"], "assignedInSync");
  EXPECT_NE(assigned.body["deploymentProfileAssignedDateTime"], "0001-01-01T00:00:00Z");

  // The script's action spelling and unquoted keys (§3 Actions).
  Answer renamed = Call("POST", std::string(kDevices) + "/" + device_id + "/UpdateDeviceProperties",
                        "{ displayName: \"PC01\", groupTag: 'Lab' }");
  EXPECT_EQ(renamed.status, 204) << renamed.body;
  Answer user =
      Post(std::string(kDevices) + "/" + device_id + "/assignUserToDevice",
           {{"userPrincipalName", "ada@contoso.example"}, {"addressableUserName", "Ada"}});
  EXPECT_EQ(user.status, 204);
  json now = Get(std::string(kDevices) + "/" + device_id).body;
  EXPECT_EQ(now["displayName"], "PC01");
  EXPECT_EQ(now["groupTag"], "Lab");
  EXPECT_EQ(now["userPrincipalName"], "ada@contoso.example");
  EXPECT_EQ(now["addressableUserName"], "Ada");

  // Clean-up of the import record; the identity stays.
  EXPECT_EQ(Call("DELETE", std::string(kImportsPath) + "/" + id).status, 204);
  EXPECT_EQ(Get(std::string(kImportsPath) + "/" + id).status, 404);
  EXPECT_EQ(Call("DELETE", std::string(kImportsPath) + "/" + id).status, 404);
  EXPECT_EQ(Get(std::string(kDevices) + "/" + device_id).status, 200);
  EXPECT_EQ(Call("DELETE", std::string(kDevices) + "/" + device_id).status, 204);
  // Deletion is asynchronous: the record stays visible for the configured delay.
  EXPECT_EQ(Get(std::string(kDevices) + "/" + device_id).status, 200);
  clock_.Advance(milliseconds(model_.config().autopilot_delete_delay_ms));
  EXPECT_EQ(Get(std::string(kDevices) + "/" + device_id).status, 404);
  EXPECT_EQ(Call("DELETE", std::string(kDevices) + "/" + device_id).status, 404);
}

TEST_F(GraphTest, DdsRulesDecideTheImportOutcome) {
  std::string no_manufacturer =
      HashText(HashBuilder().Arch(9).Str(kRecSerial, "NOMAN1").Str(kRecProductName, "X").Build());
  std::string no_serial =
      HashText(HashBuilder().Arch(9).Str(kRecManufacturer, "HP").Str(kRecProductName, "X").Build());
  json batch = {{"importedWindowsAutopilotDeviceIdentities",
                 {ImportBody("REG1", Hash("REG1")), ImportBody("OTHER1", Hash("OTHER1")),
                  ImportBody("JUNK1", Base64Encode("not a hardware hash")),
                  ImportBody("NOMAN1", no_manufacturer), ImportBody("NOSER1", no_serial),
                  ImportBody("EMPTY1", ""), ImportBody("DUP1", Hash("DUP1")),
                  ImportBody("DUP1", Hash("DUP1")), ImportBody("GOOD1", Hash("GOOD1"))}}};
  Answer a = Post(std::string(kImportsPath) + "/import", batch);
  ASSERT_EQ(a.status, 200) << a.body;
  ASSERT_EQ(a.body["value"].size(), 9u);
  for (const json& r : a.body["value"]) EXPECT_EQ(r["state"]["deviceImportStatus"], "unknown");
  // One import id for the batch.
  EXPECT_EQ(a.body["value"][0]["importId"], a.body["value"][8]["importId"]);

  // Same serial again while the first is still processing: already assigned.
  Answer again = Post(kImportsPath, ImportBody("GOOD1", Hash("GOOD1")));
  ASSERT_EQ(again.status, 201);

  clock_.Advance(milliseconds(10'000));
  auto outcome = [&](const json& record) {
    json s = Get(std::string(kImportsPath) + "/" + record["id"].get<std::string>()).body["state"];
    return s["deviceImportStatus"].get<std::string>() + " " +
           std::to_string(s["deviceErrorCode"].get<int>()) + " " +
           s["deviceErrorName"].get<std::string>();
  };
  const json& v = a.body["value"];
  EXPECT_EQ(outcome(v[0]), "error 806 ZtdDeviceAlreadyAssigned");
  EXPECT_EQ(outcome(v[1]), "error 808 ZtdDeviceAssignedToOtherTenant");
  EXPECT_EQ(outcome(v[2]), "error 802 InvalidZtdHardwareHash");
  EXPECT_EQ(outcome(v[3]), "error 802 InvalidZtdHardwareHash");
  EXPECT_EQ(outcome(v[4]), "error 802 InvalidZtdHardwareHash");
  EXPECT_EQ(outcome(v[5]), "error 802 InvalidZtdHardwareHash");
  EXPECT_EQ(outcome(v[6]), "complete 0 ");
  EXPECT_EQ(outcome(v[7]), "error 805 ZtdDeviceDuplicated");
  EXPECT_EQ(outcome(v[8]), "complete 0 ");
  EXPECT_EQ(outcome(again.body), "error 806 ZtdDeviceAlreadyAssigned");
  EXPECT_EQ(model_.ImportCount("GOOD1"), 2);
  EXPECT_EQ(model_.ImportCount("DUP1"), 2);

  // Pre-registered serials are listed as devices of the tenant.
  Answer reg = Get(std::string(kDevices) + "?$filter=contains(serialNumber,'REG1')");
  ASSERT_EQ(reg.body["value"].size(), 1u);
}

TEST_F(GraphTest, MalformedBase64IsRejectedWithoutARecord) {
  Answer a = Post(kImportsPath, ImportBody("B64", "abc-_def"));
  EXPECT_EQ(a.status, 400);
  EXPECT_EQ(a.body["error"]["message"],
            "Cannot convert the literal 'abc-_def' to the expected type 'Edm.Binary'.");
  EXPECT_TRUE(a.body["error"]["innerError"]["request-id"].is_string());
  Answer batch = Post(std::string(kImportsPath) + "/import",
                      {{"importedWindowsAutopilotDeviceIdentities",
                        {ImportBody("OK1", Hash("OK1")), ImportBody("B64", "a b")}}});
  EXPECT_EQ(batch.status, 400);
  EXPECT_EQ(model_.ImportCount("B64"), 0);
  EXPECT_EQ(model_.ImportCount("OK1"), 0);
  EXPECT_EQ(Get(kImportsPath).body["value"].size(), 0u);
}

TEST_F(GraphTest, ImportBatchIsCapped) {
  json list = json::array();
  for (int i = 0; i < 101; ++i) list.push_back(ImportBody("S" + std::to_string(i), Hash("S")));
  Answer a = Post(std::string(kImportsPath) + "/import",
                  {{"importedWindowsAutopilotDeviceIdentities", list}});
  EXPECT_EQ(a.status, 400);
  EXPECT_EQ(Nested(a.body)["_version"], 3);
  EXPECT_EQ(model_.Stats().imports_by_serial.size(), 0u);
}

TEST_F(GraphTest, ContainsFiltersAndEqIsRejectedForAutopilotDevices) {
  ImportSynced("ABC-123");
  ImportSynced("XYZ999");
  Answer hit = Get(std::string(kDevices) + "?$filter=contains(serialNumber,'abc')");
  ASSERT_EQ(hit.status, 200);
  ASSERT_EQ(hit.body["value"].size(), 1u);
  EXPECT_EQ(hit.body["value"][0]["serialNumber"], "ABC-123");
  EXPECT_EQ(
      Get(std::string(kDevices) + "?$filter=contains(serialNumber,'nothing')").body["value"].size(),
      0u);
  Answer eq = Get(std::string(kDevices) + "?$filter=serialNumber%20eq%20'XYZ999'");
  EXPECT_EQ(eq.status, 400);
  EXPECT_EQ(Nested(eq.body)["_version"], 3);
  EXPECT_EQ(
      Get(std::string(kImportsPath) + "?$filter=contains(serialNumber,'xyz')").body["value"].size(),
      1u);
  EXPECT_EQ(Get(std::string(kDevices) + "?$filter=contains(serialNumber").status, 400);
  // Entra answers eq, not contains.
  EXPECT_EQ(Get("/v1.0/devices?$filter=contains(displayName,'ABC')").status, 400);
  EXPECT_EQ(Get("/v1.0/devices?$filter=displayName%20eq%20'XYZ999'").body["value"].size(), 1u);
  EXPECT_EQ(Get("/v1.0/devices?$filter=deviceId%20eq%20'00000000-0000-0000-0000-000000000000'")
                .body["value"],
            json::array());
}

TEST_F(GraphTest, ListsArePagedByNextLink) {
  SimConfig c = model_.config();
  c.page_size = 2;
  model_.SetConfig(c);
  std::set<std::string> created;
  for (int i = 0; i < 5; ++i) {
    std::string serial = "PAGE" + std::to_string(i);
    created.insert(
        Post(kImportsPath, ImportBody(serial, Hash(serial))).body["id"].get<std::string>());
  }
  std::set<std::string> seen;
  std::string target = std::string(kImportsPath) + "?$filter=contains(serialNumber,'PAGE')";
  int pages = 0;
  while (true) {
    Answer page = Get(target);
    ASSERT_EQ(page.status, 200) << page.body;
    ++pages;
    EXPECT_LE(page.body["value"].size(), 2u);
    for (const json& r : page.body["value"]) seen.insert(r["id"].get<std::string>());
    if (!page.body.contains("@odata.nextLink")) break;
    std::string next = page.body["@odata.nextLink"];
    // Absolute, from the request's Host header, keeping the filter.
    ASSERT_TRUE(next.starts_with("http://sim.test:9090/beta/deviceManagement/")) << next;
    EXPECT_NE(next.find("$filter=contains(serialNumber,'PAGE')"), std::string::npos) << next;
    EXPECT_NE(next.find("$skiptoken="), std::string::npos);
    target = next.substr(std::string("http://sim.test:9090").size());
    ASSERT_LT(pages, 10);
  }
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(seen, created);
  Answer top = Get(std::string(kImportsPath) + "?$top=1");
  EXPECT_EQ(top.body["value"].size(), 1u);
  EXPECT_TRUE(top.body.contains("@odata.nextLink"));
  EXPECT_EQ(Get(std::string(kImportsPath) + "?$top=x").status, 400);
}

TEST_F(GraphTest, AddingAMemberTwiceIsABadRequest) {
  std::string gid = model_.AddGroup("Staff");
  std::string uid = model_.AddUser("ada@contoso.example", "Ada");
  json ref = {{"@odata.id", "https://graph.microsoft.com/v1.0/directoryObjects/" + uid}};
  EXPECT_EQ(Post("/v1.0/groups/" + gid + "/members/$ref", ref).status, 204);
  Answer dup = Post("/v1.0/groups/" + gid + "/members/$ref", ref);
  EXPECT_EQ(dup.status, 400);
  EXPECT_EQ(dup.body["error"]["code"], "Request_BadRequest");
  EXPECT_EQ(dup.body["error"]["message"],
            "One or more added object references already exist for the following modified "
            "properties: 'members'.");
  Answer unknown = Post("/v1.0/groups/" + gid + "/members/$ref",
                        {{"@odata.id", "https://graph.microsoft.com/v1.0/directoryObjects/nope"}});
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(Post("/v1.0/groups/nope/members/%24ref", ref).status, 404);
  EXPECT_EQ(Post("/v1.0/groups/" + gid + "/members/$ref", {{"x", 1}}).status, 400);
  Answer members = Get("/v1.0/groups/" + gid + "/members");
  ASSERT_EQ(members.body["value"].size(), 1u);
  EXPECT_EQ(members.body["value"][0]["@odata.type"], "#microsoft.graph.user");
  EXPECT_EQ(Call("DELETE", "/v1.0/groups/" + gid + "/members/" + uid + "/$ref").status, 204);
  EXPECT_EQ(Get("/v1.0/groups/" + gid + "/members").body["value"].size(), 0u);
}

TEST_F(GraphTest, PatchMembersIsAllOrNothing) {
  std::string gid = model_.AddGroup("Staff");
  std::string u1 = model_.AddUser("a@contoso.example", "A");
  std::string u2 = model_.AddUser("b@contoso.example", "B");
  auto url = [](const std::string& id) {
    return "https://graph.microsoft.com/v1.0/directoryObjects/" + id;
  };
  Answer bad = Call("PATCH", "/v1.0/groups/" + gid,
                    json{{"members@odata.bind", {url(u1), url("missing")}}}.dump());
  EXPECT_EQ(bad.status, 400);
  EXPECT_TRUE(model_.GroupMemberIds(gid).empty());
  EXPECT_EQ(
      Call("PATCH", "/v1.0/groups/" + gid, json{{"members@odata.bind", {url(u1)}}}.dump()).status,
      204);
  Answer dup =
      Call("PATCH", "/v1.0/groups/" + gid, json{{"members@odata.bind", {url(u2), url(u1)}}}.dump());
  EXPECT_EQ(dup.status, 400);
  EXPECT_EQ(model_.GroupMemberIds(gid), std::vector<std::string>{u1});
  json many = json::array();
  for (int i = 0; i < 21; ++i) many.push_back(url(u2));
  EXPECT_EQ(Call("PATCH", "/v1.0/groups/" + gid, json{{"members@odata.bind", many}}.dump()).status,
            400);
  EXPECT_EQ(
      Call("PATCH", "/v1.0/groups/" + gid, json{{"members@odata.bind", {url(u2)}}}.dump()).status,
      204);
  EXPECT_EQ(model_.GroupMemberIds(gid), (std::vector<std::string>{u1, u2}));
  EXPECT_EQ(
      Call("PATCH", "/v1.0/groups/missing", json{{"members@odata.bind", {url(u2)}}}.dump()).status,
      404);
}

TEST_F(GraphTest, SyncIsRefusedWithinTenMinutes) {
  const std::string sync = "/beta/deviceManagement/windowsAutopilotSettings/sync";
  EXPECT_EQ(Get("/beta/deviceManagement/windowsAutopilotSettings").body["syncStatus"], "unknown");
  EXPECT_EQ(Call("POST", sync).status, 204);
  json settings = Get("/beta/deviceManagement/windowsAutopilotSettings").body;
  EXPECT_EQ(settings["lastManualSyncTriggerDateTime"], FormatTimestamp(clock_.NowMs()));
  EXPECT_EQ(settings["syncStatus"], "inProgress");
  clock_.Advance(minutes(9));
  Answer refused = Call("POST", sync);
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(refused.Header("retry-after"), "60");
  EXPECT_EQ(Nested(refused.body)["RetryAfter"], 60);
  clock_.Advance(minutes(1));
  EXPECT_EQ(Call("POST", sync).status, 204);
  // Beta only.
  EXPECT_EQ(Call("POST", "/v1.0/deviceManagement/windowsAutopilotSettings/sync").status, 400);
}

TEST_F(GraphTest, AuthenticationAndRoles) {
  Answer none = Call("GET", kImportsPath, "", "");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.body["error"]["code"], "InvalidAuthenticationToken");
  EXPECT_EQ(Call("GET", kImportsPath, "", "made-up").status, 401);
  std::string ro = identity_.IssueToken("app-ro")->access_token;
  Answer denied = Call("GET", kImportsPath, "", ro);
  EXPECT_EQ(denied.status, 403);
  EXPECT_EQ(denied.body["error"]["code"], "Authorization_RequestDenied");
  EXPECT_EQ(Call("GET", "/v1.0/devices", "", ro).status, 200);
  EXPECT_EQ(
      Call("POST", "/v1.0/groups/" + model_.profile_group_id() + "/members/$ref", "{}", ro).status,
      403);
  clock_.Advance(seconds(3600));
  EXPECT_EQ(Get(kImportsPath).status, 401);
}

TEST_F(GraphTest, GetMemberObjectsIsTransitive) {
  std::string inner = model_.AddGroup("Inner", true);
  std::string outer = model_.AddGroup("Outer", true);
  std::string mail = model_.AddGroup("Mail", false);
  std::string uid = model_.AddUser("ada@contoso.example", "Ada");
  ASSERT_FALSE(model_.AddMember(inner, uid));
  ASSERT_FALSE(model_.AddMember(outer, inner));
  ASSERT_FALSE(model_.AddMember(mail, uid));
  Answer all = Post("/v1.0/users/" + uid + "/getMemberObjects", {{"securityEnabledOnly", false}});
  ASSERT_EQ(all.status, 200) << all.body;
  EXPECT_EQ(all.body["@odata.context"],
            "https://graph.microsoft.com/v1.0/$metadata#Collection(Edm.String)");
  std::set<std::string> got(all.body["value"].begin(), all.body["value"].end());
  EXPECT_EQ(got, (std::set<std::string>{inner, outer, mail}));
  Answer sec =
      Post("/v1.0/users/ada@contoso.example/getMemberObjects", {{"securityEnabledOnly", true}});
  std::set<std::string> secure(sec.body["value"].begin(), sec.body["value"].end());
  EXPECT_EQ(secure, (std::set<std::string>{inner, outer}));
  EXPECT_EQ(Post("/v1.0/users/nobody/getMemberObjects", {{"securityEnabledOnly", true}}).status,
            404);
  EXPECT_EQ(Post("/v1.0/users/" + uid + "/getMemberObjects", json::object()).status, 400);
}

TEST_F(GraphTest, BatchDispatchesEachRequest) {
  std::string gid = model_.AddGroup("Staff");
  std::string uid = model_.AddUser("ada@contoso.example", "Ada");
  json ref = {{"@odata.id", "https://graph.microsoft.com/v1.0/directoryObjects/" + uid}};
  json batch = {
      {"requests",
       {{{"id", "1"},
         {"method", "POST"},
         {"url", "/groups/" + gid + "/members/$ref"},
         {"headers", {{"Content-Type", "application/json"}}},
         {"body", ref}},
        {{"id", "2"},
         {"method", "POST"},
         {"url", "groups/" + gid + "/members/$ref"},
         {"headers", {{"content-type", "application/json"}}},
         {"body", ref},
         {"dependsOn", {"1"}}},
        {{"id", "3"},
         {"method", "GET"},
         {"url", "/groups/" + gid + "/members"},
         {"dependsOn", {"2"}}},
        {{"id", "4"}, {"method", "GET"}, {"url", "/groups?$filter=displayName eq 'Staff'"}}}}};
  Answer a = Post("/v1.0/$batch", batch);
  ASSERT_EQ(a.status, 200) << a.body;
  const json& r = a.body["responses"];
  ASSERT_EQ(r.size(), 4u);
  EXPECT_EQ(r[0]["id"], "1");
  EXPECT_EQ(r[0]["status"], 204);
  EXPECT_EQ(r[1]["status"], 400);
  EXPECT_EQ(r[1]["body"]["error"]["code"], "Request_BadRequest");
  EXPECT_EQ(r[2]["status"], 424);
  EXPECT_EQ(r[3]["status"], 200);
  EXPECT_EQ(r[3]["body"]["value"][0]["id"], gid);
  EXPECT_EQ(r[3]["headers"]["Content-Type"], "application/json");
  SimStats stats = model_.Stats();
  EXPECT_EQ(stats.requests["POST /v1.0/$batch"], 1);
  EXPECT_EQ(stats.requests["POST /v1.0/groups/{id}/members/$ref"], 2);
  EXPECT_EQ(stats.requests.count("GET /v1.0/groups/{id}/members"), 0u);

  auto request = [](const std::string& id) {
    return json{{"id", id}, {"method", "GET"}, {"url", "/groups"}};
  };
  EXPECT_EQ(Post("/v1.0/$batch", {{"requests", {request("1"), request("1")}}}).status, 400);
  json many = json::array();
  for (int i = 0; i < 21; ++i) many.push_back(request(std::to_string(i)));
  EXPECT_EQ(Post("/v1.0/$batch", {{"requests", many}}).status, 400);
  json no_type = request("1");
  no_type["method"] = "POST";
  no_type["body"] = ref;
  Answer missing_type = Post("/v1.0/$batch", {{"requests", {no_type}}});
  EXPECT_EQ(missing_type.status, 400);
  EXPECT_EQ(missing_type.body["error"]["message"],
            "Write request id : 1 does not contain Content-Type header or body.");
  json forward = request("1");
  forward["dependsOn"] = {"2"};
  EXPECT_EQ(Post("/v1.0/$batch", {{"requests", {forward, request("2")}}}).status, 400);
  EXPECT_EQ(Call("POST", "/v1.0/$batch", "{not json").status, 400);
  EXPECT_EQ(Post("/v1.0/$batch", {{"value", 1}}).status, 400);
  EXPECT_EQ(Call("POST", "/v1.0/$batch", batch.dump(), "").status, 401);
}

class ThrottledGraphTest : public GraphTest {
 protected:
  static SimConfig Limited() {
    SimConfig c = TestConfig();
    c.write_limit = 3;
    c.request_limit = 4;
    c.throttle_window_ms = 20'000;
    return c;
  }
  ThrottledGraphTest() : GraphTest(Limited()) {}
};

TEST_F(ThrottledGraphTest, WritesBeyondTheWindowGet429WithRetryAfter) {
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(Call("DELETE", std::string(kImportsPath) + "/x").status, 404);
    clock_.Advance(seconds(5));
  }
  Answer limited = Call("DELETE", std::string(kImportsPath) + "/x");
  EXPECT_EQ(limited.status, 429);
  EXPECT_EQ(limited.body["error"]["code"], "TooManyRequests");
  // The first write (15 s ago) leaves the window in 5 s.
  EXPECT_EQ(limited.Header("retry-after"), "5");
  EXPECT_EQ(Nested(limited.body)["RetryAfter"], 5);
  // Reads still have room; a second app has its own window.
  EXPECT_EQ(Get(kImportsPath).status, 200);
  identity_.AddApp({"app-2", "y", {"DeviceManagementServiceConfig.ReadWrite.All"}, ""});
  EXPECT_EQ(Call("DELETE", std::string(kImportsPath) + "/x", "",
                 identity_.IssueToken("app-2")->access_token)
                .status,
            404);
  clock_.Advance(seconds(5));
  EXPECT_EQ(Call("DELETE", std::string(kImportsPath) + "/x").status, 404);
  // Four requests of any kind in the window now: reads wait too.
  Answer read = Get(kImportsPath);
  EXPECT_EQ(read.status, 429);
  EXPECT_EQ(read.Header("retry-after"), "5");
  EXPECT_EQ(model_.Stats().throttled, 2);
}

TEST_F(ThrottledGraphTest, BatchSubRequestsAreThrottledOneByOne) {
  json requests = json::array();
  for (int i = 0; i < 4; ++i) {
    requests.push_back({{"id", std::to_string(i)},
                        {"method", "DELETE"},
                        {"url", "/deviceManagement/importedWindowsAutopilotDeviceIdentities/x"}});
  }
  Answer a = Post("/beta/$batch", {{"requests", requests}});
  ASSERT_EQ(a.status, 200);
  const json& r = a.body["responses"];
  EXPECT_EQ(r[0]["status"], 404);
  EXPECT_EQ(r[2]["status"], 404);
  EXPECT_EQ(r[3]["status"], 429);
  EXPECT_EQ(r[3]["headers"]["Retry-After"], "20");
}

// Sends the same requests to a fresh simulator with the given seed; returns what each got.
std::vector<std::string> FaultRun(uint64_t seed, int64_t* lost, int64_t* created) {
  ManualClock clock;
  Identity identity(clock, "tid-1", "contoso.example");
  identity.AddApp({"app-1", "s", {"DeviceManagementServiceConfig.ReadWrite.All"}, ""});
  std::string token = identity.IssueToken("app-1")->access_token;
  SimConfig c = TestConfig();
  c.seed = seed;
  c.drop_rate = 0.15;
  c.error_rate = 0.2;
  c.lost_response_rate = 0.15;
  c.slow_rate = 0.2;
  c.slow_ms = 250;
  GraphModel model(clock, c);
  SimHandler handler(identity, model, clock);
  std::vector<std::string> outcomes;
  for (int i = 0; i < 60; ++i) {
    std::string serial = "F" + std::to_string(i);
    InboundRequest req;
    req.message.method(http::verb::post);
    req.message.target(kImportsPath);
    req.message.set(http::field::authorization, "Bearer " + token);
    req.message.body() = ImportBody(serial, Hash(serial)).dump();
    req.path = kImportsPath;
    handler.Handle(std::move(req), [&](AnyResponse res, std::string_view) {
      auto& r = std::get<StringResponse>(res);
      std::string fault(r["X-Apm-Sim-Fault"]);
      bool drop = r[kDropConnectionHeader] == "1";
      outcomes.push_back(std::to_string(r.result_int()) + (drop ? " drop " : " ") + fault);
      // The effect is applied for lost answers and normal ones, never for drops or 5xx.
      bool applied = fault.empty() || fault == "lost-response";
      EXPECT_EQ(model.ImportCount(serial), applied ? 1 : 0) << fault;
      EXPECT_EQ(drop, fault == "dropped" || fault == "lost-response");
    });
  }
  SimStats s = model.Stats();
  *lost = s.lost;
  *created = int64_t(s.imports_by_serial.size());
  EXPECT_GT(s.slow, 0);
  EXPECT_GT(s.dropped, 0);
  EXPECT_GT(s.faults_500 + s.faults_503, 0);
  EXPECT_EQ(s.requests["POST /beta/deviceManagement/importedWindowsAutopilotDeviceIdentities"], 60);
  return outcomes;
}

TEST(FaultInjectionTest, SameSeedSameFaultsAndLostAnswersApplyTheEffect) {
  int64_t lost1 = 0, created1 = 0, lost2 = 0, created2 = 0, lost3 = 0, created3 = 0;
  std::vector<std::string> a = FaultRun(7, &lost1, &created1);
  std::vector<std::string> b = FaultRun(7, &lost2, &created2);
  std::vector<std::string> c = FaultRun(8, &lost3, &created3);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_GT(lost1, 0);
  EXPECT_EQ(lost1, lost2);
  EXPECT_EQ(created1, created2);
  int normal = int(std::count(a.begin(), a.end(), "201 "));
  EXPECT_EQ(created1, normal + lost1);
}

TEST_F(GraphTest, BatchSubRequestsGetStatusFaultsButNoDrops) {
  SimConfig c = model_.config();
  c.drop_rate = 0.5;
  c.lost_response_rate = 0.5;
  model_.SetConfig(c);
  int envelope_drops = 0, envelope_lost = 0;
  for (int round = 0; round < 20; ++round) {
    json requests = json::array();
    for (int i = 0; i < 5; ++i) {
      requests.push_back({{"id", std::to_string(i)}, {"method", "GET"}, {"url", "/groups"}});
    }
    Answer a = Post("/v1.0/$batch", {{"requests", requests}});
    EXPECT_TRUE(a.dropped);
    if (a.Header("x-apm-sim-fault") == "dropped") {
      ++envelope_drops;
      continue;
    }
    // Lost after running: in-process the body is still there, and no sub-request was dropped.
    ++envelope_lost;
    ASSERT_EQ(a.body["responses"].size(), 5u);
    for (const json& r : a.body["responses"]) EXPECT_EQ(r["status"], 200);
  }
  EXPECT_GT(envelope_drops, 0);
  EXPECT_GT(envelope_lost, 0);
  c.drop_rate = 0;
  c.lost_response_rate = 0;
  c.error_rate = 1;
  model_.SetConfig(c);
  json requests = {{{"id", "1"}, {"method", "GET"}, {"url", "/groups"}}};
  // The envelope itself draws first; with every draw a fault, it fails as a whole.
  Answer a = Post("/v1.0/$batch", {{"requests", requests}});
  EXPECT_TRUE(a.status == 500 || a.status == 503) << a.status;
}

TEST_F(GraphTest, AdminRoutesShowCountersDevicesAndChangeConfig) {
  ImportSynced("ADM1");
  Post(kImportsPath, ImportBody("ADM1", Hash("ADM1")));
  Answer stats = Call("GET", "/_sim/stats", "", "");
  ASSERT_EQ(stats.status, 200);
  EXPECT_EQ(stats.body["importsBySerial"]["ADM1"], 2);
  EXPECT_EQ(stats.body["requests"]
                      ["POST /beta/deviceManagement/importedWindowsAutopilotDeviceIdentities"],
            2);
  EXPECT_EQ(
      stats.body["requests"]["GET /beta/deviceManagement/windowsAutopilotDeviceIdentities/{id}"],
      1);
  Answer devices = Call("GET", "/_sim/devices", "", "");
  ASSERT_EQ(devices.status, 200);
  bool found = false;
  for (const json& d : devices.body["autopilotDevices"]) {
    if (d["serialNumber"] != "ADM1") continue;
    found = true;
    EXPECT_EQ(d["deploymentProfileAssignmentStatus"], "notAssigned");
    EXPECT_EQ(d["azureActiveDirectoryDeviceId"].get<std::string>().size(), 36u);
  }
  EXPECT_TRUE(found);
  EXPECT_EQ(devices.body["profileGroupId"], model_.profile_group_id());

  Answer cfg = Call("POST", "/_sim/config", R"({"errorRate":0.5,"importDelayMs":5})", "");
  ASSERT_EQ(cfg.status, 200) << cfg.body;
  EXPECT_EQ(model_.config().error_rate, 0.5);
  EXPECT_EQ(model_.config().import_delay_ms, 5);
  EXPECT_EQ(Call("POST", "/_sim/config", R"({"errorRate":2})", "").status, 400);
  EXPECT_EQ(Call("POST", "/_sim/config", R"({"bogus":1})", "").status, 400);
  EXPECT_EQ(model_.config().error_rate, 0.5);

  EXPECT_EQ(Call("POST", "/_sim/reset", "", "").status, 200);
  EXPECT_EQ(model_.ImportCount("ADM1"), 0);
  EXPECT_EQ(model_.Devices().size(), 1u);  // the registered serial again
}

TEST(AdminRoutesTest, OffByDefault) {
  ManualClock clock;
  Identity identity(clock, "tid-1", "contoso.example");
  SimHandler handler(identity, clock);
  for (const char* path : {"/_sim/stats", "/_sim/devices", "/_sim/reset", "/_sim/config"}) {
    InboundRequest req;
    req.message.method(std::string_view(path) == "/_sim/reset" ? http::verb::post
                                                               : http::verb::get);
    req.message.target(path);
    req.path = path;
    int status = 0;
    handler.Handle(std::move(req), [&](AnyResponse res, std::string_view) {
      status = std::get<StringResponse>(res).result_int();
    });
    EXPECT_EQ(status, 404) << path;
  }
}

}  // namespace
}  // namespace apm::sim
