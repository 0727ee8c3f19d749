#include "server/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace apm {
namespace {

using ::testing::HasSubstr;

TEST(Metrics, RendersCountersHistogramsAndGauges) {
  Metrics m;
  m.OnRequest("/api/v1/requests", 201, 0.002);
  m.OnRequest("/api/v1/requests", 201, 0.2);
  m.OnRequest("/api/v1/requests", 400, 0.0001);
  m.ObserveStore("create", 0.0004);
  std::string text = m.Render({{RequestState::kPendingApproval, 7}});
  EXPECT_THAT(text,
              HasSubstr("apm_http_requests_total{route=\"/api/v1/requests\",status=\"201\"} 2\n"));
  EXPECT_THAT(text,
              HasSubstr("apm_http_requests_total{route=\"/api/v1/requests\",status=\"400\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("apm_http_request_duration_seconds_bucket{route=\"/api/v1/"
                              "requests\",le=\"0.0005\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("apm_http_request_duration_seconds_bucket{route=\"/api/v1/"
                              "requests\",le=\"0.0025\"} 2\n"));
  EXPECT_THAT(
      text,
      HasSubstr(
          "apm_http_request_duration_seconds_bucket{route=\"/api/v1/requests\",le=\"+Inf\"} 3\n"));
  EXPECT_THAT(text,
              HasSubstr("apm_http_request_duration_seconds_count{route=\"/api/v1/requests\"} 3\n"));
  EXPECT_THAT(text,
              HasSubstr("apm_store_operation_duration_seconds_count{operation=\"create\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("apm_device_requests{state=\"pending_approval\"} 7\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE apm_http_requests_total counter\n"));
}

TEST(Metrics, CountsFromManyThreads) {
  Metrics m;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&m, t] {
      for (int i = 0; i < 10000; ++i) m.OnRequest(t % 2 ? "/a" : "/b", 200, 0.001);
    });
  }
  for (auto& t : threads) t.join();
  std::string text = m.Render({});
  EXPECT_THAT(text, HasSubstr("apm_http_requests_total{route=\"/a\",status=\"200\"} 20000\n"));
  EXPECT_THAT(text, HasSubstr("apm_http_requests_total{route=\"/b\",status=\"200\"} 20000\n"));
}

}  // namespace
}  // namespace apm
