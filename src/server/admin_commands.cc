#include "server/admin_commands.h"

#include <pwd.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "core/base64.h"
#include "core/hardware_hash.h"
#include "server/approval_service.h"
#include "server/clock.h"
#include "server/db_commands.h"
#include "server/hash_facts.h"
#include "server/importer/registration_check.h"
#include "server/intake_service.h"
#include "server/json_text.h"
#include "server/store/sql_request_store.h"

namespace apm {
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
    Result<std::string> decoded = Base64Decode(compact);
    if (!decoded.ok()) {
      std::cout << JsonText(json{{"error", "not a hardware hash: " + decoded.status().message()}},
                            2)
                << "\n";
      return 1;
    }
    blob = std::move(decoded).value();
  }
  Result<HardwareHashInfo> h = DecodeHardwareHash(blob);
  if (!h.ok()) {
    std::cout << JsonText(json{{"error", "unverifiable hash: " + h.status().message()}}, 2) << "\n";
    return 1;
  }
  json out = HashFactsJson(*h);
  out["usedBytes"] = h->used_length;
  out["records"] = h->record_count;
  std::cout << JsonText(out, 2) << "\n";
  return 0;
}

json RequestSummary(const StoredRequest& r) {
  json j = {{"id", r.id},
            {"state", RequestStateName(r.state)},
            {"serialNumber", r.serial_number},
            {"manufacturer", r.manufacturer},
            {"model", r.model},
            {"verification", r.verification},
            {"hash", r.hash_fingerprint},
            {"client", r.client_address},
            {"createdAt", FormatTimestamp(r.created_at)}};
  if (r.error)
    j["error"] = {{"code", r.error->code}, {"name", r.error->name}, {"message", r.error->message}};
  // What the tenant already holds for the serial, once looked up.
  if (!r.registration.empty()) j["registration"] = json::parse(r.registration, nullptr, false);
  return j;
}

}  // namespace

AdminCommands::AdminCommands(CLI::App& app) {
  auto* hash = app.add_subcommand("hash", "hardware hash tools");
  decode_ = hash->add_subcommand("decode", "print the fields of a hardware hash as JSON");
  decode_->add_option("source", hash_source_, "file with the base64 hash, or - for stdin")
      ->required();
  hash->require_subcommand(1);

  request_ = app.add_subcommand("request", "inspect and act on stored device requests");
  list_ = request_->add_subcommand("list", "list requests, newest first");
  list_->add_option("--state", state_filter_,
                    "only requests in this state (e.g. pending_approval)");
  list_->add_option("--limit", limit_, "at most this many")->check(CLI::Range(1, 100000));
  show_ = request_->add_subcommand("show", "show one request");
  reject_ = request_->add_subcommand("reject", "reject a pending request");
  show_->add_option("id", request_id_)->required();
  reject_->add_option("id", request_id_)->required();
  reject_->add_option("--reason", reason_, "text shown to the device's user");
  import_csv_ = request_->add_subcommand(
      "import-csv",
      "make a request of each row of a Get-WindowsAutopilotInfo CSV (UTF-16 or UTF-8), to be "
      "approved like any other; exit 3 when some rows were refused");
  import_csv_->add_option("file", csv_path_, "the CSV file, or - for stdin")->required();
  approve_ = request_->add_subcommand(
      "approve", "approve pending requests; the running server imports the devices");
  approve_->add_option("ids", approve_ids_, "one or more request ids")->required();
  approve_->add_option("--group-tag", approval_.group_tag, "group tag (default: GroupTag setting)")
      ->each([this](const std::string&) { group_tag_given_ = true; });
  approve_->add_option("--user", approval_.assigned_user, "UPN of the device's assigned user");
  approve_->add_option("--name", approval_.device_name, "device name to set");
  approve_->add_option("--comment", approval_.comment, "comment kept with the import");
  auto* re_register = approve_->add_flag_callback(
      "--re-register", [this] { approval_.action = ApprovalAction::kReRegister; },
      "replace the device's existing registration with this hash (a repaired device); group "
      "tag and user default to the old registration's");
  auto* update_only = approve_->add_flag_callback(
      "--update-only", [this] { approval_.action = ApprovalAction::kUpdateOnly; },
      "set group tag, name and user on the existing registration; import nothing");
  auto* remove_intune = approve_->add_flag_callback(
      "--remove-intune-record", [this] { approval_.action = ApprovalAction::kRemoveManagedDevice; },
      "only delete the Intune record of the existing registration "
      "(AllowDeletionInApprovalMode)");
  re_register->excludes(update_only)->excludes(remove_intune);
  update_only->excludes(remove_intune);
  request_->require_subcommand(1);
}

int AdminCommands::RunHash() const {
  return DecodeHashCommand(hash_source_);
}

int AdminCommands::RunRequest(const Config& config) {
  auto store = OpenConfiguredStore(config);
  if (!store.ok()) {
    std::cerr << "apm-server: " << store.status().message() << "\n";
    return 1;
  }
  if (*list_) {
    RequestFilter f;
    f.limit = limit_;
    if (!state_filter_.empty()) {
      f.state = ParseRequestState(state_filter_);
      if (!f.state) {
        std::cerr << "apm-server: unknown state \"" << state_filter_ << "\"\n";
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
    std::cout << JsonText(out, 2) << "\n";
    return 0;
  }
  if (*show_) {
    auto r = (*store)->GetWithHash(request_id_);
    if (!r.ok()) {
      std::cerr << "apm-server: " << r.status().message() << "\n";
      return 1;
    }
    json j = RequestSummary(*r);
    j["step"] = r->step;
    j["hashFacts"] = json::parse(r->hash_facts, nullptr, false);
    std::cout << JsonText(j, 2) << "\n";
    return 0;
  }
  SystemClock clock;
  // Admin commands print JSON on stdout; their log lines go to stderr.
  spdlog::set_default_logger(spdlog::stderr_logger_mt("apm-cli"));
  if (*import_csv_) return ImportCsv(config, **store, clock);
  ApprovalService approvals(config, **store, clock, store->get());
  const passwd* account = getpwuid(getuid());
  std::string who = std::string("cli:") + (account ? account->pw_name : std::to_string(getuid()));
  if (*reject_) {
    auto r = approvals.Reject(request_id_, reason_, who);
    if (!r.ok()) {
      std::cerr << "apm-server: cannot reject: " << r.status().message() << "\n";
      return 1;
    }
    std::cout << JsonText(RequestSummary(*r), 2) << "\n";
    return 0;
  }
  if (*approve_) {
    if (!group_tag_given_) approval_.group_tag = config.GroupTag;
    approval_.approver = who;
    // Each request is decided on its own: one that cannot be approved does not stop the rest.
    int failures = 0;
    for (const std::string& id : approve_ids_) {
      Approval approval = approval_;
      if (Result<StoredRequest> request = (*store)->Get(id); request.ok()) {
        ApplyRequestDefaults(*request, group_tag_given_, &approval);
      }
      auto r = approvals.Approve(id, approval);
      if (!r.ok()) {
        std::cerr << "apm-server: cannot approve " << id << ": " << r.status().message() << "\n";
        ++failures;
        continue;
      }
      std::cout << JsonText(RequestSummary(*r), 2) << "\n";
    }
    return failures == 0 ? 0 : 1;
  }
  return 0;
}

int AdminCommands::ImportCsv(const Config& config, SqlRequestStore& store, const Clock& clock) {
  std::string csv;
  if (csv_path_ == "-") {
    csv.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    std::ifstream in(csv_path_, std::ios::binary);
    if (!in) {
      std::cerr << "apm-server: cannot read " << csv_path_ << "\n";
      return 1;
    }
    csv.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  RateLimiter unused(clock, 1, 1);  // uploads are not rate limited
  IntakeService intake(config, store, clock, unused);
  intake.AuditTo(&store);
  const passwd* account = getpwuid(getuid());
  std::string who = std::string("cli:") + (account ? account->pw_name : std::to_string(getuid()));
  Result<std::vector<IntakeService::UploadOutcome>> outcomes =
      intake.SubmitUpload(csv, {who, "", ""});
  if (!outcomes.ok()) {
    std::cerr << "apm-server: " << csv_path_ << ": " << outcomes.status().message() << "\n";
    return 1;
  }
  json requests = json::array(), refused = json::array();
  int64_t existing = 0;
  for (const auto& o : *outcomes) {
    if (!o.refusal.empty()) {
      refused.push_back({{"line", o.line}, {"serial", o.serial_number}, {"reason", o.refusal}});
      continue;
    }
    requests.push_back(o.request_id);
    existing += o.existing ? 1 : 0;
  }
  json out = {{"rows", outcomes->size()},
              {"created", int64_t(requests.size()) - existing},
              {"existing", existing},
              {"refused", refused},
              {"requests", requests}};
  std::cout << JsonText(out, 2) << "\n";
  return refused.empty() ? 0 : 3;
}

}  // namespace apm
