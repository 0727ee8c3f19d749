// The doctor's checks inside the server: run at start-up and then every DoctorIntervalHours on
// a thread of their own, each problem logged, the latest result kept for the status page and
// /metrics.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include "server/clock.h"
#include "server/config.h"
#include "server/doctor/doctor.h"
#include "server/http/curl_outbound_http.h"

namespace apm {

class BackgroundDoctor {
 public:
  BackgroundDoctor(const Config& config, const Clock& clock, std::chrono::hours interval);
  ~BackgroundDoctor();
  void Start();
  // Ends a run in progress and the thread; returns when it has.
  void Stop();
  // The latest finished run; nullopt until the first ends.
  std::optional<DoctorRun> Latest() const;

 private:
  void Loop();

  const Config& config_;
  const Clock& clock_;
  const std::chrono::hours interval_;
  CurlOutboundHttp http_;         // Entra ID and Graph, with GraphCaFile's trust
  CurlOutboundHttp public_http_;  // PublicUrl, with the system's trust
  mutable std::mutex mu_;         // guards what follows
  std::condition_variable wake_;
  bool stopping_ = false;
  Doctor* running_ = nullptr;
  std::optional<DoctorRun> latest_;
  std::thread thread_;
};

}  // namespace apm
