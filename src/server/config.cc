// Settings: the table of keys, reading them from TOML and APM_ variables, and showing them
// (the rules between settings are in config_checks.cc).
#include "server/config.h"

#include "core/text.h"

#include <toml++/toml.h>
#include <cctype>
#include <cstdlib>
#include <sstream>
#include <variant>

extern char** environ;

namespace apm {
namespace {

using Setter = std::variant<bool Config::*, int64_t Config::*, double Config::*,
                            std::string Config::*, std::vector<std::string> Config::*>;

struct Key {
  const char* name;
  Setter field;
};

#define APM_KEY(name)    \
  Key {                  \
#name, &Config::name \
  }
const Key kKeys[] = {
    APM_KEY(Listen),
    APM_KEY(DataDir),
    APM_KEY(DatabaseUrl),
    APM_KEY(DatabasePoolSize),
    APM_KEY(DatabaseStatementTimeoutSeconds),
    APM_KEY(EngineFailoverSeconds),
    APM_KEY(PublicUrl),
    APM_KEY(Threads),
    APM_KEY(TlsCertificateFile),
    APM_KEY(TlsKeyFile),
    APM_KEY(HttpRedirectListen),
    APM_KEY(TrustedProxies),
    APM_KEY(LogFormat),
    APM_KEY(LogLevel),
    APM_KEY(AccessLog),
    APM_KEY(MaxBodyBytes),
    APM_KEY(MaxUploadBytes),
    APM_KEY(MaxConnections),
    APM_KEY(MaxConnectionsPerAddress),
    APM_KEY(IdleTimeoutSeconds),
    APM_KEY(ShutdownGraceSeconds),
    APM_KEY(MaintenanceIntervalSeconds),
    APM_KEY(DoctorIntervalHours),
    APM_KEY(ClientWindowsBinary),
    APM_KEY(ClientPosixBinary),
    APM_KEY(ClientSigningCertificateFile),
    APM_KEY(ClientSigningKeyFile),
    APM_KEY(ApprovalMode),
    APM_KEY(UseApprovalUserAsAssignedUser),
    APM_KEY(AuthorizationSecurityGroup),
    APM_KEY(ApproverSecurityGroup),
    APM_KEY(ViewerSecurityGroup),
    APM_KEY(UseAutopilotProfileGroup),
    APM_KEY(AutopilotProfileGroup),
    APM_KEY(GroupTag),
    APM_KEY(UseApprovalModeGroupTags),
    APM_KEY(ApprovalModeGroupTags),
    APM_KEY(UseManufacturersFilter),
    APM_KEY(Manufacturers),
    APM_KEY(UseModelsFilter),
    APM_KEY(Models),
    APM_KEY(Timeout),
    APM_KEY(UseReRegisterMode),
    APM_KEY(PreservePurchaseOrderIdOnReRegister),
    APM_KEY(AllowDeletionInApprovalMode),
    APM_KEY(UseAutopilotV2ModeOnly),
    APM_KEY(HomepageCompanyLogoImageUrl),
    APM_KEY(HomepageHeadlineSentenceApprovalMode),
    APM_KEY(HomepageHeadlineSentenceNonApprovalMode),
    APM_KEY(CustomHomepageImportInstructions),
    APM_KEY(HideHomepageImportInstructions),
    APM_KEY(HomepageImportCommandUrls),
    APM_KEY(ShowHomepageApprovalLink),
    APM_KEY(ShowHomepageHistoryLink),
    APM_KEY(RequiredFrontDoorId),
    APM_KEY(AzureFunctionsUrl),
    APM_KEY(UseValidationFunction),
    APM_KEY(ValidationFunctionKey),
    APM_KEY(UseGroupTagFunction),
    APM_KEY(GroupTagFunctionKey),
    APM_KEY(UseAutoApprovalFunction),
    APM_KEY(AutoApprovalFunctionKey),
    APM_KEY(FunctionTimeoutSeconds),
    APM_KEY(FunctionFailurePolicy),
    APM_KEY(NotificationWebhookUrl),
    APM_KEY(NotificationWebhookSecret),
    APM_KEY(NotificationWebhookEvents),
    APM_KEY(NotificationTeamsUrl),
    APM_KEY(NotificationTeamsEvents),
    APM_KEY(UseLogAnalytics),
    APM_KEY(LogAnalyticsReportHardwareHash),
    APM_KEY(LogsIngestionEndpoint),
    APM_KEY(LogsIngestionRuleId),
    APM_KEY(LogsIngestionStream),
    APM_KEY(HashVerification),
    APM_KEY(AllowSelfServiceReRegister),
    APM_KEY(HistoryDays),
    APM_KEY(SubmitRatePerMinute),
    APM_KEY(SubmitBurst),
    APM_KEY(MaxOpenRequestsPerAddress),
    APM_KEY(MaxWaitSeconds),
    APM_KEY(TenantId),
    APM_KEY(ClientId),
    APM_KEY(ClientSecret),
    APM_KEY(ClientCertificateFile),
    APM_KEY(ClientPrivateKeyFile),
    APM_KEY(LoginEndpoint),
    APM_KEY(GraphEndpoint),
    APM_KEY(GraphCaFile),
    APM_KEY(GraphWritesPer20Seconds),
    APM_KEY(GraphRequestsPer20Seconds),
    APM_KEY(ImportWorkers),
    APM_KEY(MaxActiveImports),
    APM_KEY(ImportPollMinSeconds),
    APM_KEY(ImportPollMaxSeconds),
    APM_KEY(WaitForProfileAssignment),
    APM_KEY(ImportReconcileDelaySeconds),
    APM_KEY(ImportStepTimeoutMinutes),
    APM_KEY(SyncStepTimeoutMinutes),
    APM_KEY(GroupStepTimeoutMinutes),
    APM_KEY(SignInAuthority),
    APM_KEY(SignInClientId),
    APM_KEY(SignInClientSecret),
    APM_KEY(SessionIdleMinutes),
    APM_KEY(SessionMaxHours),
    APM_KEY(SignInClockSkewSeconds),
    APM_KEY(ProfileStepTimeoutMinutes),
};
#undef APM_KEY

const Key* FindKey(std::string_view name) {
  for (const Key& k : kKeys) {
    if (name == k.name) return &k;
  }
  return nullptr;
}

// The original stored lists as comma-separated strings; both forms are accepted.
std::vector<std::string> SplitList(std::string_view s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    if (comma == std::string_view::npos) comma = s.size();
    std::string item = Trim(s.substr(start, comma - start));
    if (!item.empty()) out.push_back(item);
    start = comma + 1;
  }
  return out;
}

Status ApplyToml(Config& c, const Key& key, const toml::node& node, const std::string& where) {
  auto wrong = [&](const char* expected) {
    return Status::InvalidArgument(where + ": " + key.name + " must be " + expected);
  };
  return std::visit(
      [&](auto member) -> Status {
        using T = std::remove_reference_t<decltype(c.*member)>;
        if constexpr (std::is_same_v<T, bool>) {
          if (!node.is_boolean()) return wrong("true or false");
          c.*member = node.as_boolean()->get();
        } else if constexpr (std::is_same_v<T, int64_t>) {
          if (!node.is_integer()) return wrong("an integer");
          c.*member = node.as_integer()->get();
        } else if constexpr (std::is_same_v<T, double>) {
          if (node.is_integer()) {
            c.*member = double(node.as_integer()->get());
          } else if (node.is_floating_point()) {
            c.*member = node.as_floating_point()->get();
          } else {
            return wrong("a number");
          }
        } else if constexpr (std::is_same_v<T, std::string>) {
          if (!node.is_string()) return wrong("a string");
          c.*member = node.as_string()->get();
        } else {
          if (node.is_string()) {
            c.*member = SplitList(node.as_string()->get());
          } else if (const toml::array* arr = node.as_array()) {
            std::vector<std::string> items;
            for (const toml::node& item : *arr) {
              if (!item.is_string()) return wrong("a list of strings");
              items.push_back(Trim(item.as_string()->get()));
            }
            c.*member = std::move(items);
          } else {
            return wrong("a list of strings");
          }
        }
        return Status::Ok();
      },
      key.field);
}

Status ApplyEnv(Config& c, const Key& key, const std::string& value, const std::string& var) {
  auto wrong = [&](const char* expected) {
    return Status::InvalidArgument("environment variable " + var + " (" + key.name + ") must be " +
                                   expected + ", got \"" + value + "\"");
  };
  return std::visit(
      [&](auto member) -> Status {
        using T = std::remove_reference_t<decltype(c.*member)>;
        if constexpr (std::is_same_v<T, bool>) {
          std::string v = value;
          for (char& ch : v) ch = char(std::tolower(static_cast<unsigned char>(ch)));
          if (v == "true" || v == "1" || v == "yes") {
            c.*member = true;
          } else if (v == "false" || v == "0" || v == "no") {
            c.*member = false;
          } else {
            return wrong("true or false");
          }
        } else if constexpr (std::is_same_v<T, int64_t>) {
          char* end = nullptr;
          errno = 0;
          long long v = std::strtoll(value.c_str(), &end, 10);
          if (value.empty() || *end != '\0' || errno != 0) return wrong("an integer");
          c.*member = v;
        } else if constexpr (std::is_same_v<T, double>) {
          char* end = nullptr;
          double v = std::strtod(value.c_str(), &end);
          if (value.empty() || *end != '\0') return wrong("a number");
          c.*member = v;
        } else if constexpr (std::is_same_v<T, std::string>) {
          c.*member = value;
        } else {
          c.*member = SplitList(value);
        }
        return Status::Ok();
      },
      key.field);
}

}  // namespace

std::string EnvName(const std::string& key) {
  std::string out = "APM_";
  for (size_t i = 0; i < key.size(); ++i) {
    char ch = key[i];
    bool upper = std::isupper(static_cast<unsigned char>(ch));
    // A new word starts at an upper-case letter after a lower-case one (ApprovalMode) or before
    // a lower-case one in a run of capitals (TLSKey -> TLS_KEY).
    if (i > 0 && upper &&
        (std::islower(static_cast<unsigned char>(key[i - 1])) ||
         (i + 1 < key.size() && std::islower(static_cast<unsigned char>(key[i + 1])) &&
          std::isupper(static_cast<unsigned char>(key[i - 1]))))) {
      out.push_back('_');
    }
    out.push_back(char(std::toupper(static_cast<unsigned char>(ch))));
  }
  return out;
}

std::vector<std::string> ConfigKeys() {
  std::vector<std::string> out;
  for (const Key& k : kKeys) out.push_back(k.name);
  return out;
}

namespace {

// A setting's value as text; secrets and credentials in URLs hidden.
std::string ShownValue(const Config& c, const Key& key) {
  const std::string_view name = key.name;
  std::string text = std::visit(
      [&](auto member) -> std::string {
        const auto& v = c.*member;
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, bool>) {
          return v ? "true" : "false";
        } else if constexpr (std::is_same_v<T, int64_t>) {
          return std::to_string(v);
        } else if constexpr (std::is_same_v<T, double>) {
          std::ostringstream out;
          out << v;
          return out.str();
        } else if constexpr (std::is_same_v<T, std::string>) {
          return v;
        } else {
          std::string joined;
          for (const std::string& item : v) joined += (joined.empty() ? "" : ", ") + item;
          return joined;
        }
      },
      key.field);
  if (text.empty()) return text;
  if (name.ends_with("Secret") || name.ends_with("FunctionKey")) return "(set, hidden)";
  // URLs that may carry a credential: a database password (in the user part or the query),
  // a Teams workflow's signature, a webhook receiver's token. Shown without the user part's
  // password and without the query; a libpq key=value string not at all.
  if (name == "DatabaseUrl" || name == "NotificationTeamsUrl" || name == "NotificationWebhookUrl") {
    const size_t scheme = text.find("://");
    if (scheme == std::string::npos) return "(set, hidden)";
    const size_t query = text.find_first_of("?#", scheme);
    const bool had_query = query != std::string::npos;
    text = text.substr(0, query);
    const size_t at = text.rfind('@');
    const size_t colon = text.find(':', scheme + 3);
    if (at != std::string::npos && colon != std::string::npos && colon < at) {
      text = text.substr(0, colon + 1) + "(hidden)" + text.substr(at);
    }
    if (had_query) text += "?(hidden)";
  }
  return text;
}

}  // namespace

std::vector<SettingView> DescribeSettings(const Config& config) {
  std::vector<SettingView> out;
  for (const Key& k : kKeys) {
    auto source = config.sources.find(k.name);
    out.push_back({k.name, ShownValue(config, k),
                   source == config.sources.end() ? "default" : source->second});
  }
  return out;
}

std::map<std::string, std::string> ProcessEnvironment() {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    if (kv.substr(0, 4) != "APM_") continue;
    size_t eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    env.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
  }
  return env;
}

HashVerificationMode Config::hash_verification_mode() const {
  if (HashVerification == "off") return HashVerificationMode::kOff;
  if (HashVerification == "warn") return HashVerificationMode::kWarn;
  return HashVerificationMode::kEnforce;
}

AllowList Config::allow_list() const {
  AllowList a;
  a.use_manufacturers = UseManufacturersFilter;
  a.manufacturers = Manufacturers;
  a.use_models = UseModelsFilter;
  a.models = Models;
  return a;
}

std::string Config::sign_in_authority() const {
  if (!SignInAuthority.empty()) return SignInAuthority;
  if (TenantId.empty()) return "";
  std::string base = LoginEndpoint;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + "/" + TenantId + "/v2.0";
}

Result<Config> LoadConfig(const std::string& path, const std::map<std::string, std::string>& env,
                          bool check) {
  Config c;
  if (!path.empty()) {
    toml::table table;
    try {
      table = toml::parse_file(path);
    } catch (const toml::parse_error& e) {
      const auto& where = e.source().begin;
      return Status::InvalidArgument(path + ":" + std::to_string(where.line) + ":" +
                                     std::to_string(where.column) + ": " +
                                     std::string(e.description()));
    }
    for (const auto& [name, node] : table) {
      const Key* key = FindKey(name.str());
      if (!key && name.str() == "X-Azure-FDID") {
        return Status::InvalidArgument(path +
                                       ": the original's \"X-Azure-FDID\" is RequiredFrontDoorId "
                                       "here (see docs/configuration.md)");
      }
      if (!key && (name.str() == "LogAnalyticsWorkspaceId" ||
                   name.str() == "LogAnalyticsSharedKey" || name.str() == "LogAnalyticsLogName")) {
        return Status::InvalidArgument(
            path + ": \"" + std::string(name.str()) +
            "\" was for the Data Collector API, which Azure Monitor retired; the audit goes "
            "through the Logs Ingestion API: set LogsIngestionEndpoint and LogsIngestionRuleId "
            "(see docs/configuration.md)");
      }
      if (!key) {
        return Status::InvalidArgument(path + ": unknown setting \"" + std::string(name.str()) +
                                       "\" (see docs/configuration.md)");
      }
      Status s = ApplyToml(c, *key, node, path);
      if (!s.ok()) return s;
      c.sources[key->name] = path;
    }
  }
  for (const auto& [var, value] : env) {
    if (var.rfind("APM_", 0) != 0) continue;
    const Key* key = nullptr;
    for (const Key& k : kKeys) {
      if (EnvName(k.name) == var) key = &k;
    }
    if (!key) {
      return Status::InvalidArgument("unknown environment variable " + var +
                                     " (settings are APM_ plus the key in upper snake case, "
                                     "e.g. APM_APPROVAL_MODE)");
    }
    Status s = ApplyEnv(c, *key, value, var);
    if (!s.ok()) return s;
    c.sources[key->name] = var;
  }
  if (check) {
    if (Status s = ValidateConfig(c); !s.ok()) return s;
  }
  return c;
}

}  // namespace apm
