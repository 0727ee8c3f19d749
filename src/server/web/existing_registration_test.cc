#include "server/web/existing_registration.h"

#include <gtest/gtest.h>

#include "server/clock.h"

namespace apm::web {
namespace {

constexpr int64_t kDayMs = 24LL * 60 * 60 * 1000;

TEST(TimestampMs, ReadsGraphTimesAndRefusesTheRest) {
  EXPECT_EQ(TimestampMs("1970-01-02T00:00:01Z"), kDayMs + 1000);
  EXPECT_EQ(TimestampMs(FormatTimestamp(1'764'000'123'000)), 1'764'000'123'000);
  EXPECT_EQ(TimestampMs("2026-11-25T16:20:00.1234567Z"), TimestampMs("2026-11-25T16:20:00Z"));
  EXPECT_FALSE(TimestampMs(""));
  EXPECT_FALSE(TimestampMs("2026-11-25 16:20:00Z"));
  EXPECT_FALSE(TimestampMs("2026-11-25T25:20:00Z"));
  EXPECT_FALSE(TimestampMs("2026-13-25T16:20:00Z"));
}

RegistrationCheck OneFound(int64_t last_contacted_ms) {
  RegistrationCheck check;
  check.checked_at = 1;
  FoundRegistration f;
  f.device.id = "old-1";
  f.device.serial_number = "PF-1";
  f.device.group_tag = "Kiosk";
  f.device.user_principal_name = "ada@contoso.example";
  f.device.purchase_order_id = "PO-77";
  f.device.last_contacted = FormatTimestamp(last_contacted_ms);
  f.managed = ManagedDevice{"m-1", "DESKTOP-OLD", "PF-1", "", FormatTimestamp(last_contacted_ms)};
  check.found.push_back(f);
  return check;
}

TEST(RegistrationSummary, SaysPlainlyWhatTheTenantHolds) {
  const int64_t now = 100 * kDayMs;
  EXPECT_EQ(RegistrationSummary(RegistrationCheck{}, now), "");
  EXPECT_EQ(RegistrationSummary(RegistrationCheck{5, {}, ""}, now), "");
  EXPECT_EQ(RegistrationSummary(OneFound(now - 3 * kDayMs), now),
            "Already registered in Autopilot, group tag Kiosk, assigned to ada@contoso.example, "
            "last seen 3 days ago: this looks like a repaired or reset device.");
  RegistrationCheck two = OneFound(now);
  two.found.push_back(two.found.front());
  EXPECT_NE(RegistrationSummary(two, now).find("2 Autopilot registrations"), std::string::npos);
  EXPECT_NE(RegistrationSummary(RegistrationCheck{5, {}, "Graph 403"}, now).find("Graph 403"),
            std::string::npos);
}

}  // namespace
}  // namespace apm::web
