#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "client/hardware_probe.h"
#include "client/testing/fakes.h"

namespace apm::client {
namespace {

using ::testing::HasSubstr;

std::string WriteTemp(const std::string& name, const std::string& text) {
  std::string path = ::testing::TempDir() + name;
  std::ofstream(path) << text;
  return path;
}

TEST(DeviceFileTest, ReadsTheFourFields) {
  std::string path = WriteTemp("dev.json",
                               R"({"serialNumber":" PF3 ","manufacturer":"LENOVO",
                                  "model":"21R3","hardwareHash":"AAAA","extra":1})");
  Result<DeviceFacts> facts = NewDeviceFileProbe(path)->Read();
  ASSERT_TRUE(facts.ok()) << facts.status().ToString();
  EXPECT_EQ(facts->serial_number, "PF3");
  EXPECT_EQ(facts->manufacturer, "LENOVO");
  EXPECT_EQ(facts->model, "21R3");
  EXPECT_EQ(facts->hardware_hash, "AAAA");
  EXPECT_THAT(facts->source, HasSubstr(path));
}

TEST(DeviceFileTest, ErrorsNameTheFileAndField) {
  EXPECT_THAT(NewDeviceFileProbe("/nonexistent/dev.json")->Read().status().message(),
              HasSubstr("/nonexistent/dev.json"));
  std::string bad = WriteTemp("bad.json", "[1]");
  EXPECT_THAT(NewDeviceFileProbe(bad)->Read().status().message(), HasSubstr("JSON object"));
  std::string typed = WriteTemp("typed.json", R"({"serialNumber": 5})");
  EXPECT_THAT(NewDeviceFileProbe(typed)->Read().status().message(), HasSubstr("serialNumber"));
}

TEST(Oa3ReportTest, HashFromTheReportFactsFromThePlatform) {
  std::string xml =
      "<?xml version=\"1.0\"?>\r\n<Key>\r\n  <ProductKey>XXXXX</ProductKey>\r\n"
      "  <HardwareHash>T0FB\r\nQUFB</HardwareHash>\r\n</Key>\r\n";
  EXPECT_EQ(*HashFromOa3Report(xml), "T0FBQUFB");
  EXPECT_THAT(HashFromOa3Report("<Key></Key>").status().message(), HasSubstr("HardwareHash"));
  EXPECT_FALSE(HashFromOa3Report("<HardwareHash>  </HardwareHash>").ok());

  std::string path = WriteTemp("OA3.xml", xml);
  auto platform = std::make_unique<testing::FakeHardwareProbe>(
      DeviceFacts{"SER", "Dell Inc.", "Latitude", "", "WMI", ""});
  Result<DeviceFacts> facts = NewOa3ReportProbe(path, std::move(platform))->Read();
  ASSERT_TRUE(facts.ok()) << facts.status().ToString();
  EXPECT_EQ(facts->serial_number, "SER");
  EXPECT_EQ(facts->hardware_hash, "T0FBQUFB");
  EXPECT_THAT(facts->source, HasSubstr("OA3"));
}

}  // namespace
}  // namespace apm::client
