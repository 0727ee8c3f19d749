// apm-server: the Autopilot Manager web service, and a few admin commands on its store.
#include <pwd.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>
#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <csignal>
#include <fstream>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "core/base64.h"
#include "core/hardware_hash.h"
#include "core/validation.h"
#include "server/approval_service.h"
#include "server/config.h"
#include "server/hash_facts.h"
#include "server/json_text.h"
#include "server/logging.h"
#include "server/server_app.h"
#include "server/store/sqlite_request_store.h"

namespace {

using json = nlohmann::json;

int DecodeHashCommand(const std::string& source) {
  std::string text;
  if (source == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), {});
  } else {
    std::ifstream in(source, std::ios::binary);
    if (!in) {
      std::cerr << "apm-server: cannot read " << source << "\n";
      return 2;
    }
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  // Base64 text (as WMI and CSV files give it), or the raw blob.
  std::string blob;
  if (text.rfind("OA", 0) == 0 && text.size() > 40 && text.find('\0') != std::string::npos) {
    blob = text;
  } else {
    std::string compact;
    for (char c : text) {
      if (!std::isspace(static_cast<unsigned char>(c))) compact.push_back(c);
    }
    apm::Result<std::string> decoded = apm::Base64Decode(compact);
    if (!decoded.ok()) {
      std::cout << apm::JsonText(
                       json{{"error", "not a hardware hash: " + decoded.status().message()}}, 2)
                << "\n";
      return 1;
    }
    blob = std::move(decoded).value();
  }
  apm::Result<apm::HardwareHashInfo> h = apm::DecodeHardwareHash(blob);
  if (!h.ok()) {
    std::cout << apm::JsonText(json{{"error", "unverifiable hash: " + h.status().message()}}, 2)
              << "\n";
    return 1;
  }
  json out = apm::HashFactsJson(*h);
  out["usedBytes"] = h->used_length;
  out["records"] = h->record_count;
  std::cout << apm::JsonText(out, 2) << "\n";
  return 0;
}

json RequestSummary(const apm::StoredRequest& r) {
  json j = {{"id", r.id},
            {"state", apm::RequestStateName(r.state)},
            {"serialNumber", r.serial_number},
            {"manufacturer", r.manufacturer},
            {"model", r.model},
            {"verification", r.verification},
            {"hash", r.hash_fingerprint},
            {"client", r.client_address},
            {"createdAt", apm::FormatTimestamp(r.created_at)}};
  if (r.error)
    j["error"] = {{"code", r.error->code}, {"name", r.error->name}, {"message", r.error->message}};
  return j;
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  CLI::App app{"Autopilot Manager server"};
  app.set_version_flag("--version", std::string("apm-server ") + APM_VERSION);
  std::string config_path, listen, data_dir;
  app.add_option("--config", config_path, "TOML settings file (apm.toml)")
      ->check(CLI::ExistingFile);
  app.add_option("--listen", listen, "ADDRESS:PORT to listen on (overrides Listen)");
  app.add_option("--data-dir", data_dir, "directory of the SQLite database (overrides DataDir)");
  app.fallthrough();

  auto* hash = app.add_subcommand("hash", "hardware hash tools");
  auto* decode = hash->add_subcommand("decode", "print the fields of a hardware hash as JSON");
  std::string hash_source;
  decode->add_option("source", hash_source, "file with the base64 hash, or - for stdin")
      ->required();
  hash->require_subcommand(1);

  auto* request = app.add_subcommand("request", "inspect and act on stored device requests");
  auto* list = request->add_subcommand("list", "list requests, newest first");
  std::string state_filter;
  int limit = 50;
  list->add_option("--state", state_filter, "only requests in this state (e.g. pending_approval)");
  list->add_option("--limit", limit, "at most this many")->check(CLI::Range(1, 100000));
  auto* show = request->add_subcommand("show", "show one request");
  auto* reject = request->add_subcommand("reject", "reject a pending request");
  std::string request_id, reason = "Rejected by an administrator";
  show->add_option("id", request_id)->required();
  reject->add_option("id", request_id)->required();
  reject->add_option("--reason", reason, "text shown to the device's user");
  auto* approve = request->add_subcommand(
      "approve", "approve pending requests; the running server imports the devices");
  std::vector<std::string> approve_ids;
  apm::Approval approval;
  bool group_tag_given = false;
  approve->add_option("ids", approve_ids, "one or more request ids")->required();
  approve->add_option("--group-tag", approval.group_tag, "group tag (default: GroupTag setting)")
      ->each([&](const std::string&) { group_tag_given = true; });
  approve->add_option("--user", approval.assigned_user, "UPN of the device's assigned user");
  approve->add_option("--name", approval.device_name, "device name to set");
  approve->add_option("--comment", approval.comment, "comment kept with the import");
  request->require_subcommand(1);

  CLI11_PARSE(app, argc, argv);

  if (*decode) return DecodeHashCommand(hash_source);

  apm::Result<apm::Config> loaded =
      apm::LoadConfig(config_path, apm::ProcessEnvironment(), /*check=*/false);
  if (!loaded.ok()) {
    std::cerr << "apm-server: configuration error: " << loaded.status().message() << "\n";
    return 2;
  }
  apm::Config config = std::move(loaded).value();
  if (!listen.empty()) config.Listen = listen;
  if (!data_dir.empty()) config.DataDir = data_dir;
  if (*request) {
    // Admin commands work on the store only; the Graph credentials (often only in the
    // service's environment) are not needed for them.
    config.TenantId.clear();
    config.ClientId.clear();
    config.ClientSecret.clear();
    config.ClientCertificateFile.clear();
    config.ClientPrivateKeyFile.clear();
  }
  if (apm::Status s = apm::ValidateConfig(config); !s.ok()) {
    std::cerr << "apm-server: configuration error: " << s.message() << "\n";
    return 2;
  }

  if (*request) {
    std::string db = config.DataDir + "/apm.db";
    auto store = apm::SqliteRequestStore::Open(db);
    if (!store.ok()) {
      std::cerr << "apm-server: " << store.status().message() << "\n";
      return 1;
    }
    if (*list) {
      apm::RequestFilter f;
      f.limit = limit;
      if (!state_filter.empty()) {
        f.state = apm::ParseRequestState(state_filter);
        if (!f.state) {
          std::cerr << "apm-server: unknown state \"" << state_filter << "\"\n";
          return 2;
        }
      }
      auto rows = (*store)->List(f);
      if (!rows.ok()) {
        std::cerr << "apm-server: " << rows.status().message() << "\n";
        return 1;
      }
      json out = json::array();
      for (const auto& r : *rows) out.push_back(RequestSummary(r));
      std::cout << apm::JsonText(out, 2) << "\n";
      return 0;
    }
    if (*show) {
      auto r = (*store)->GetWithHash(request_id);
      if (!r.ok()) {
        std::cerr << "apm-server: " << r.status().message() << "\n";
        return 1;
      }
      json j = RequestSummary(*r);
      j["step"] = r->step;
      j["hashFacts"] = json::parse(r->hash_facts, nullptr, false);
      std::cout << apm::JsonText(j, 2) << "\n";
      return 0;
    }
    apm::SystemClock clock;
    apm::ApprovalService approvals(config, **store, clock, store->get());
    // Admin commands print JSON on stdout; their log lines go to stderr.
    spdlog::set_default_logger(spdlog::stderr_logger_mt("apm-cli"));
    const passwd* account = getpwuid(getuid());
    std::string who = std::string("cli:") + (account ? account->pw_name : std::to_string(getuid()));
    if (*reject) {
      auto r = approvals.Reject(request_id, reason, who);
      if (!r.ok()) {
        std::cerr << "apm-server: cannot reject: " << r.status().message() << "\n";
        return 1;
      }
      std::cout << apm::JsonText(RequestSummary(*r), 2) << "\n";
      return 0;
    }
    if (*approve) {
      if (!group_tag_given) approval.group_tag = config.GroupTag;
      approval.approver = who;
      // Each request is decided on its own: one that cannot be approved does not stop the rest.
      int failures = 0;
      for (const std::string& id : approve_ids) {
        auto r = approvals.Approve(id, approval);
        if (!r.ok()) {
          std::cerr << "apm-server: cannot approve " << id << ": " << r.status().message() << "\n";
          ++failures;
          continue;
        }
        std::cout << apm::JsonText(RequestSummary(*r), 2) << "\n";
      }
      return failures == 0 ? 0 : 1;
    }
  }

  apm::InitLogging(config.LogFormat, config.LogLevel);
  // Signals are caught from before start-up, so an early SIGTERM still shuts down cleanly.
  boost::asio::io_context signals_io;
  boost::asio::signal_set signals(signals_io, SIGINT, SIGTERM);
  apm::ServerApp server(config);
  if (apm::Status s = server.Start(); !s.ok()) {
    apm::LogError("start-up failed", {{"error", s.message()}});
    std::cerr << "apm-server: " << s.message() << "\n";
    return 1;
  }
  signals.async_wait([&](boost::system::error_code, int sig) {
    apm::LogInfo("signal received", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
  });
  signals_io.run();
  server.Shutdown();
  return 0;
}
