// apm-server settings: an apm.toml file, then APM_* environment overrides, then the command
// line. Names follow the original Autopilot Manager where it had the setting; every key is
// documented in docs/configuration.md.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/validation.h"

namespace apm {

struct Config {
  // Server
  std::string Listen = "0.0.0.0:8080";
  std::string DataDir = "data";
  // PostgreSQL instead of SQLite in DataDir: a libpq URI or key=value string. It may hold a
  // password: set it as APM_DATABASE_URL (or a password file), not in apm.toml.
  std::string DatabaseUrl;
  int64_t DatabasePoolSize = 8;  // read connections per instance
  int64_t DatabaseStatementTimeoutSeconds = 10;
  int64_t EngineFailoverSeconds = 15;  // how soon another instance takes over the engine
  std::string PublicUrl;  // empty: derived from each request's Host (and trusted proxy headers)
  int64_t Threads = 0;    // 0: one per core
  std::string TlsCertificateFile;
  std::string TlsKeyFile;
  // ADDRESS:PORT of a plain-HTTP listener that only redirects to https ("" = none).
  std::string HttpRedirectListen;
  std::vector<std::string> TrustedProxies;  // addresses or CIDR blocks
  std::string LogFormat = "text";           // text | json
  std::string LogLevel = "info";
  bool AccessLog = true;
  int64_t MaxBodyBytes = 64 * 1024;
  int64_t MaxUploadBytes = 16 * 1024 * 1024;  // the approvers' CSV upload form
  int64_t MaxConnections = 0;                 // 0: what the open-file limit allows
  int64_t MaxConnectionsPerAddress = 256;     // 0: no cap; trusted proxies are never capped
  int64_t IdleTimeoutSeconds = 30;
  int64_t ShutdownGraceSeconds = 10;
  int64_t MaintenanceIntervalSeconds = 60;
  // The doctor's checks run in the background at start-up and then this often (0: never);
  // the status page shows the latest result.
  int64_t DoctorIntervalHours = 24;
  // Where the Debian package installs the clients (APM_CLIENT_DIR).
  std::string ClientWindowsBinary = APM_CLIENT_DIR "/ap.exe";
  std::string ClientPosixBinary = APM_CLIENT_DIR "/ap";
  // Both (or the certificate with its key in one PEM file): ap.exe is Authenticode-signed with
  // them at start-up (client_signing.h) and the signed copy served.
  std::string ClientSigningCertificateFile;
  std::string ClientSigningKeyFile;  // empty: in ClientSigningCertificateFile

  // Behaviour (names from the original tool)
  bool ApprovalMode = true;
  bool UseApprovalUserAsAssignedUser = false;
  std::string AuthorizationSecurityGroup;
  std::string ApproverSecurityGroup;
  std::string ViewerSecurityGroup;
  bool UseAutopilotProfileGroup = false;
  std::string AutopilotProfileGroup;
  std::string GroupTag = "AutopilotManager";
  bool UseApprovalModeGroupTags = true;
  std::vector<std::string> ApprovalModeGroupTags = {"Standard", "Shared", "Kiosk",
                                                    "NONE=No Group Tag"};
  bool UseManufacturersFilter = false;
  std::vector<std::string> Manufacturers = {"Microsoft Corporation", "Microsoft"};
  bool UseModelsFilter = false;
  std::vector<std::string> Models = {"Virtual Machine"};
  int64_t Timeout = 60;  // minutes a request may wait for approval
  // The repair path: re-register offered and preselected when a registration exists; the old
  // purchase order id kept where Graph lets an import set it; removing a device's Intune record
  // on request (approvers only).
  bool UseReRegisterMode = false;
  bool PreservePurchaseOrderIdOnReRegister = true;
  bool AllowDeletionInApprovalMode = false;
  // Every device is registered as an APv2 corporate identifier, never by its hash.
  bool UseAutopilotV2ModeOnly = false;
  // The home page: the company's logo and words, the import command's two URLs, footer links.
  std::string HomepageCompanyLogoImageUrl;           // https only; its origin joins the page's CSP
  std::string HomepageHeadlineSentenceApprovalMode;  // empty: our sentence
  std::string HomepageHeadlineSentenceNonApprovalMode;  // empty: our sentence
  std::string CustomHomepageImportInstructions;         // empty: our instructions
  bool HideHomepageImportInstructions = false;
  std::vector<std::string> HomepageImportCommandUrls;  // empty, or the exe's URL and the server's
  bool ShowHomepageApprovalLink = false;
  bool ShowHomepageHistoryLink = false;
  // Only requests through this Azure Front Door profile (its X-Azure-FDID; several during a
  // move between profiles); anything else is 403, health checks excepted. Empty: no check.
  std::vector<std::string> RequiredFrontDoorId;
  // The original's decision hooks (decision_hooks.h): POST {AzureFunctionsUrl}/validate,
  // /grouptag and /autoapproval with `x-functions-key`; prefer APM_…_FUNCTION_KEY for the keys.
  std::string AzureFunctionsUrl;
  bool UseValidationFunction = false;
  std::string ValidationFunctionKey;
  bool UseGroupTagFunction = false;
  std::string GroupTagFunctionKey;
  bool UseAutoApprovalFunction = false;
  std::string AutoApprovalFunctionKey;
  int64_t FunctionTimeoutSeconds = 10;  // per call; a submission's calls share 25 s
  // A validation function that gives no answer (or not a 2xx): "refuse" the device for now, or
  // "wait" for an approver (self-service approval is then refused).
  std::string FunctionFailurePolicy = "refuse";
  // Event notifications (notify/notifier.h): a webhook receiving CloudEvents signed per the
  // Standard Webhooks spec, and a Teams channel through a Workflows webhook. Both URLs and the
  // secret are secrets: prefer APM_NOTIFICATION_WEBHOOK_SECRET and APM_NOTIFICATION_TEAMS_URL.
  std::string NotificationWebhookUrl;
  std::string NotificationWebhookSecret;  // whsec_ and base64 of 24 to 64 random bytes
  std::vector<std::string> NotificationWebhookEvents = {
      "waiting",   "approved", "rejected", "removing_registration",
      "completed", "failed",   "expired",  "not_allowed"};
  std::string NotificationTeamsUrl;
  std::vector<std::string> NotificationTeamsEvents = {"waiting", "failed"};
  // The audit trail to Azure Monitor (notify/audit_export.h) through the Logs Ingestion API,
  // with the Graph app's credentials (it needs Monitoring Metrics Publisher on the rule).
  bool UseLogAnalytics = false;                 // the original's name: the export is on
  bool LogAnalyticsReportHardwareHash = false;  // approvals carry the whole hash
  std::string LogsIngestionEndpoint;            // https://….ingest.monitor.azure.com
  std::string LogsIngestionRuleId;              // the DCR's immutable id, dcr-…
  std::string LogsIngestionStream = "Custom-AutopilotManagerAudit_CL";

  // New in this implementation
  std::string HashVerification = "enforce";  // enforce | warn | off
  // Self-service users may replace an existing registration (by default only approvers may).
  bool AllowSelfServiceReRegister = false;
  int64_t HistoryDays = 90;
  double SubmitRatePerMinute = 60;  // token refill per client address
  int64_t SubmitBurst = 30;
  int64_t MaxOpenRequestsPerAddress = 50;
  int64_t MaxWaitSeconds = 60;  // long-poll cap

  // Microsoft Graph (the import engine). No TenantId: requests wait for approval, nothing is
  // imported, and start-up says so.
  std::string TenantId;
  std::string ClientId;
  std::string ClientSecret;  // prefer APM_CLIENT_SECRET to a file setting
  std::string ClientCertificateFile;
  std::string ClientPrivateKeyFile;  // empty: in ClientCertificateFile
  std::string LoginEndpoint = "https://login.microsoftonline.com";
  std::string GraphEndpoint = "https://graph.microsoft.com";
  std::string GraphCaFile;                // empty: the system's trust store
  int64_t GraphWritesPer20Seconds = 100;  // Intune's documented per-app limits
  int64_t GraphRequestsPer20Seconds = 1000;
  int64_t ImportWorkers = 4;
  int64_t MaxActiveImports = 1000;
  double ImportPollMinSeconds = 5;
  double ImportPollMaxSeconds = 60;
  bool WaitForProfileAssignment = true;
  double ImportReconcileDelaySeconds = 60;  // after a lost import answer, before looking again
  int64_t ImportStepTimeoutMinutes = 30;
  int64_t SyncStepTimeoutMinutes = 60;
  int64_t GroupStepTimeoutMinutes = 30;
  int64_t ProfileStepTimeoutMinutes = 90;

  // Sign-in (OpenID Connect). On when any security group or SignInAuthority is set; then it
  // must be complete (ValidateConfig names what is missing).
  std::string SignInAuthority;      // issuer; empty: LoginEndpoint/TenantId/v2.0
  std::string SignInClientId;       // empty: ClientId
  std::string SignInClientSecret;   // empty: ClientSecret; prefer APM_SIGN_IN_CLIENT_SECRET
  int64_t SessionIdleMinutes = 30;  // ASVS 3.3.2 at level 2
  int64_t SessionMaxHours = 12;
  int64_t SignInClockSkewSeconds = 120;

  HashVerificationMode hash_verification_mode() const;
  bool graph_configured() const { return !TenantId.empty(); }
  bool sign_in_configured() const {
    return !SignInAuthority.empty() || !AuthorizationSecurityGroup.empty() ||
           !ApproverSecurityGroup.empty() || !ViewerSecurityGroup.empty();
  }
  // The effective sign-in settings (defaults from the Graph app registration).
  std::string sign_in_authority() const;
  std::string sign_in_client_id() const {
    return SignInClientId.empty() ? ClientId : SignInClientId;
  }
  std::string sign_in_client_secret() const {
    return SignInClientSecret.empty() ? ClientSecret : SignInClientSecret;
  }
  // Sign-in redeems codes with the Graph app's certificate: same app, no secret for it.
  bool sign_in_uses_certificate() const {
    return sign_in_client_secret().empty() && sign_in_client_id() == ClientId &&
           !ClientCertificateFile.empty();
  }
  AllowList allow_list() const;

  // Where each setting that is not its default came from: the file's path, the APM_ variable's
  // name, or "command line" (set by LoadConfig and main).
  std::map<std::string, std::string> sources;
};

// One setting as `apm-server doctor` shows it: its effective value (secrets hidden) and where it
// came from ("default" when nothing set it).
struct SettingView {
  std::string key;
  std::string value;
  std::string source;
};
std::vector<SettingView> DescribeSettings(const Config& config);

// Reads the optional TOML file (empty path: none) and the APM_* variables in `env`, and checks
// the result. Errors name the key (and the file or variable) that is wrong.
// `check` false leaves the cross-setting rules (ValidateConfig) to the caller, who may still
// change settings (command-line overrides) first.
Result<Config> LoadConfig(const std::string& path, const std::map<std::string, std::string>& env,
                          bool check = true);

// The APM_* variables of this process.
std::map<std::string, std::string> ProcessEnvironment();

// APM_ variable name of a setting: ApprovalMode -> APM_APPROVAL_MODE.
std::string EnvName(const std::string& key);

// Names of all settings, for docs and tests.
std::vector<std::string> ConfigKeys();

// Plain http to this machine (127.0.0.1, localhost, [::1]): allowed where secrets travel only
// for tests and the demo.
bool IsLoopbackHttpUrl(std::string_view url);

// Checks cross-setting rules (a filter without a list, TLS without a key, ...).
Status ValidateConfig(const Config& config);

}  // namespace apm
