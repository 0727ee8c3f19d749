#include "server/status_json.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace apm {
namespace {

using json = nlohmann::json;

StoredRequest Request() {
  StoredRequest r;
  r.id = "3BXEV2uDvlyxSiTqoMr41Qz9";
  r.serial_number = "PF3ABCDE";
  r.manufacturer = "LENOVO";
  r.model = "21R3001BUK";
  r.hardware_hash = "T0E=";
  r.verification = "verified";
  r.state = RequestState::kPendingApproval;
  r.step = "Waiting for approval";
  r.created_at = r.updated_at = 1'795'767'695'532;  // 2026-11-27T08:21:35.532Z
  r.expires_at = r.created_at + 3'600'000;
  r.version = 3;
  return r;
}

TEST(StatusJson, HasTheDocumentedShape) {
  json j = json::parse(StatusJson(Request(), "https://apm.example.com", true));
  EXPECT_EQ(j["id"], "3BXEV2uDvlyxSiTqoMr41Qz9");
  EXPECT_EQ(j["state"], "pending_approval");
  EXPECT_EQ(j["step"], "Waiting for approval");
  EXPECT_EQ(j["terminal"], false);
  EXPECT_EQ(j["mode"], "approval");
  EXPECT_EQ(j["approvalUrl"], "https://apm.example.com/autopilot/3BXEV2uDvlyxSiTqoMr41Qz9");
  EXPECT_EQ(
      j["device"],
      (json{{"serialNumber", "PF3ABCDE"}, {"manufacturer", "LENOVO"}, {"model", "21R3001BUK"}}));
  EXPECT_EQ(j["verification"], "verified");
  EXPECT_TRUE(j["error"].is_null());
  EXPECT_EQ(j["createdAt"], "2026-11-27T08:21:35.532Z");
  EXPECT_EQ(j["expiresAt"], "2026-11-27T09:21:35.532Z");
  EXPECT_TRUE(j["finishedAt"].is_null());
  EXPECT_FALSE(j.contains("qr"));
  EXPECT_FALSE(j.contains("hardwareHash"));
  EXPECT_EQ(j.dump().find("T0E="), std::string::npos);  // the hash never leaves the server
}

TEST(StatusJson, FailedRequestsCarryTheirErrorAndQrWhenGiven) {
  StoredRequest r = Request();
  r.state = RequestState::kFailed;
  r.error = RequestError{806, "ZtdDeviceAlreadyAssigned", "already registered"};
  r.finished_at = r.created_at + 1000;
  QrMatrix qr{2, {"10", "01"}};
  json j = json::parse(StatusJson(r, "http://h", false, &qr));
  EXPECT_EQ(j["terminal"], true);
  EXPECT_EQ(j["mode"], "self_service");
  EXPECT_EQ(j["error"], (json{{"code", 806},
                              {"name", "ZtdDeviceAlreadyAssigned"},
                              {"message", "already registered"}}));
  EXPECT_EQ(j["finishedAt"], "2026-11-27T08:21:36.532Z");
  EXPECT_EQ(j["qr"], (json{{"size", 2}, {"rows", {"10", "01"}}}));
}

TEST(StatusJson, ETagMovesWithTheVersion) {
  StoredRequest r = Request();
  EXPECT_EQ(ETag(r), "\"v3\"");
  r.version = 4;
  EXPECT_EQ(ETag(r), "\"v4\"");
}

}  // namespace
}  // namespace apm
