#include "server/doctor/doctor_command.h"

#include <unistd.h>

#include <iostream>

#include "server/clock.h"
#include "server/doctor/doctor.h"
#include "server/http/curl_outbound_http.h"

namespace apm {

DoctorCommand::DoctorCommand(CLI::App& app) {
  command_ = app.add_subcommand(
      "doctor",
      "check the configuration against the tenant: endpoints, clock, token, permissions, "
      "profile group, sign-in; exit 1 when something is wrong");
  command_->add_flag("--json", json_, "print the findings as JSON");
}

int DoctorCommand::Run(const Config& config) const {
  const std::string agent = std::string("apm-server/") + APM_VERSION + " (doctor)";
  CurlOutboundHttp::Options graph_options;
  graph_options.ca_file = config.GraphCaFile;
  graph_options.user_agent = agent;
  CurlOutboundHttp graph_http(graph_options);
  SystemClock clock;
  CurlOutboundHttp::Options public_options;
  public_options.user_agent = agent;
  CurlOutboundHttp public_http(public_options);
  Doctor doctor(config, graph_http, public_http, clock);
  DoctorReport report;
  try {
    report = doctor.Run();
  } catch (const std::exception& e) {
    std::cerr << "apm-server doctor: a check stopped on an unexpected answer: " << e.what() << "\n";
    return 1;
  }
  if (json_) {
    std::cout << DoctorJson(report).dump(2) << "\n";
  } else {
    // Marks need a terminal that shows them; a pipe or a log gets words.
    std::cout << DoctorText(report, /*plain=*/!isatty(STDOUT_FILENO));
  }
  return report.failed() ? 1 : 0;
}

}  // namespace apm
